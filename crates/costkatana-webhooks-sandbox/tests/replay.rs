//! Replays (PROTOCOL.md §7): a new record sending the original record's
//! stored request again, to the original URL, with the original timestamp
//! and signature, its retries left kept; refused for a pending record.

mod support;

use std::sync::Arc;

use costkatana_webhooks::{EventType, ManualClock};
use costkatana_webhooks_sandbox::{Emission, Sandbox};
use serde_json::json;
use support::api::Api;
use support::{bounded, Receiver, Script};

const NOW: i64 = 1_777_377_600_000;
const DAY: i64 = 24 * 3_600_000;

#[tokio::test]
async fn a_replay_resends_the_original_request_to_the_original_url() {
    bounded(async {
        let clock = Arc::new(ManualClock::new(NOW));
        let sandbox = Sandbox::builder()
            .speed(1000.0)
            .clock(Arc::clone(&clock))
            .start()
            .await
            .unwrap();
        let api = Api::new(&sandbox);
        let original_receiver =
            Receiver::start(vec![Script::Status(404), Script::Status(200)]).await;
        let new_receiver = Receiver::start(vec![Script::Status(200)]).await;
        let id = api
            .create_webhook(&original_receiver.url, &["cost.alert"], json!({}))
            .await;
        let made = sandbox
            .emit(Emission::new(EventType::CostAlert))
            .unwrap()
            .delivery_ids;
        sandbox.settled().await;
        let original = api.delivery(&made[0]).await;
        assert_eq!(original["error"]["type"], "http_error");

        // Ten days later, the webhook points elsewhere.
        clock.advance_ms(10 * DAY);
        api.put(
            &format!("/api/webhooks/{id}"),
            json!({"url": new_receiver.url}),
        )
        .await;
        let (status, body) = api
            .post(
                &format!("/api/webhooks/deliveries/{}/replay", made[0]),
                json!({}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["message"], "Delivery replayed successfully");
        let replay_id = body["deliveryId"].as_str().unwrap().to_owned();
        assert_ne!(replay_id, made[0]);
        sandbox.settled().await;

        let sent = original_receiver.recorded();
        assert_eq!(sent.len(), 2, "to the original URL");
        assert!(new_receiver.recorded().is_empty());
        assert_eq!(sent[1].body, sent[0].body);
        assert_eq!(
            sent[1].headers, sent[0].headers,
            "the original timestamp and signature"
        );
        assert_eq!(sent[1].headers["x-webhook-timestamp"], NOW.to_string());

        let replay = api.delivery(&replay_id).await;
        assert_eq!(replay["status"], "success");
        assert_eq!(replay["attempt"], 1);
        assert_eq!(replay["retriesLeft"], original["retriesLeft"]);
        assert_eq!(replay["eventId"], original["eventId"]);
        assert_eq!(replay["request"], original["request"]);
        assert_eq!(replay["metadata"], json!({"originalDeliveryId": made[0]}));
        assert_eq!(replay["createdAt"], "2026-05-08T12:00:00.000Z");
        // The live service sets no `signature` on the replay's record.
        assert!(replay.get("signature").is_none());
        // Both records are the webhook's.
        assert_eq!(api.deliveries(&id).await.len(), 2);
    })
    .await;
}

#[tokio::test]
async fn a_replay_of_a_retried_attempt_keeps_its_retries_left() {
    bounded(async {
        let sandbox = Sandbox::builder().speed(1000.0).start().await.unwrap();
        let api = Api::new(&sandbox);
        let receiver = Receiver::start(vec![Script::Status(500), Script::Status(200)]).await;
        let id = api
            .create_webhook(
                &receiver.url,
                &["cost.alert"],
                json!({"retryConfig": {"maxRetries": 4, "initialDelay": 1000}}),
            )
            .await;
        let made = sandbox
            .emit(Emission::new(EventType::CostAlert))
            .unwrap()
            .delivery_ids;
        sandbox.settled().await;
        let first = api.delivery(&made[0]).await;
        assert_eq!(
            (
                first["error"]["type"].as_str(),
                first["retriesLeft"].as_u64()
            ),
            (Some("retry_scheduled"), Some(3))
        );
        let retry_id = api.deliveries(&id).await[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();

        let (_, body) = api
            .post(
                &format!("/api/webhooks/deliveries/{}/replay", made[0]),
                json!({}),
            )
            .await;
        sandbox.settled().await;
        let replay = api.delivery(body["deliveryId"].as_str().unwrap()).await;
        assert_eq!(replay["retriesLeft"], 3);
        assert_eq!(replay["metadata"], json!({"originalDeliveryId": made[0]}));
        // A replay of the retry record carries the metadata it had.
        let (_, body) = api
            .post(
                &format!("/api/webhooks/deliveries/{retry_id}/replay"),
                json!({}),
            )
            .await;
        sandbox.settled().await;
        let replay = api.delivery(body["deliveryId"].as_str().unwrap()).await;
        assert_eq!(
            replay["metadata"],
            json!({"previousAttemptId": made[0], "originalDeliveryId": retry_id})
        );
    })
    .await;
}

#[tokio::test]
async fn a_pending_delivery_cannot_be_replayed() {
    bounded(async {
        let sandbox = Sandbox::builder().start().await.unwrap();
        let api = Api::new(&sandbox);
        let receiver = Receiver::start(vec![Script::Held(200)]).await;
        api.create_webhook(&receiver.url, &["cost.alert"], json!({}))
            .await;
        let made = sandbox
            .emit(Emission::new(EventType::CostAlert))
            .unwrap()
            .delivery_ids;
        receiver.wait_for(1).await;
        let (status, body) = api
            .post(
                &format!("/api/webhooks/deliveries/{}/replay", made[0]),
                json!({}),
            )
            .await;
        assert_eq!(
            (status, body),
            (
                400,
                json!({"success": false, "message": "Cannot replay a pending delivery"})
            )
        );
        let (status, queue) = api.get("/api/webhooks/queue/stats").await;
        assert_eq!(status, 200);
        assert_eq!(
            queue["queue"],
            json!({"waiting": 0, "active": 1, "completed": 0, "failed": 0})
        );
        receiver.release();
        sandbox.settled().await;
        let (_, queue) = api.get("/api/webhooks/queue/stats").await;
        assert_eq!(
            queue["queue"],
            json!({"waiting": 0, "active": 0, "completed": 1, "failed": 0})
        );

        let (status, body) = api
            .post(
                "/api/webhooks/deliveries/65f0c0ffee0000000000beef/replay",
                json!({}),
            )
            .await;
        assert_eq!(
            (status, body),
            (
                404,
                json!({"success": false, "message": "Delivery not found"})
            )
        );
    })
    .await;
}
