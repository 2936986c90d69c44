//! What the sandbox keeps: records expire after 30 days (the live TTL, on
//! the sandbox's clock), and at most `max_deliveries` are held, the oldest
//! going first.

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
async fn records_expire_after_30_days() {
    bounded(async {
        let clock = Arc::new(ManualClock::new(NOW));
        let sandbox = Sandbox::builder()
            .clock(Arc::clone(&clock))
            .start()
            .await
            .unwrap();
        let api = Api::new(&sandbox);
        let receiver = Receiver::start(vec![Script::Status(200)]).await;
        let id = api
            .create_webhook(&receiver.url, &["cost.alert"], json!({}))
            .await;
        let old = sandbox
            .emit(Emission::new(EventType::CostAlert))
            .unwrap()
            .delivery_ids;
        sandbox.settled().await;
        clock.advance_ms(20 * DAY);
        let newer = sandbox
            .emit(Emission::new(EventType::CostAlert))
            .unwrap()
            .delivery_ids;
        sandbox.settled().await;

        clock.advance_ms(10 * DAY);
        assert_eq!(api.deliveries(&id).await.len(), 2, "30 days old: kept");
        clock.advance_ms(1);
        let (status, _) = api
            .get(&format!("/api/webhooks/deliveries/{}", old[0]))
            .await;
        assert_eq!(status, 404, "older than 30 days: gone");
        let left = api.deliveries(&id).await;
        assert_eq!(left.len(), 1);
        assert_eq!(left[0]["id"], newer[0]);
        assert_eq!(
            api.webhook(&id).await["stats"]["totalDeliveries"],
            2,
            "the webhook stays"
        );
    })
    .await;
}

#[tokio::test]
async fn at_most_max_deliveries_records_are_held() {
    bounded(async {
        let sandbox = Sandbox::builder().max_deliveries(3).start().await.unwrap();
        let api = Api::new(&sandbox);
        let receiver = Receiver::start(vec![Script::Status(200)]).await;
        let id = api
            .create_webhook(&receiver.url, &["cost.alert"], json!({}))
            .await;
        let mut made = Vec::new();
        for _ in 0..5 {
            made.extend(
                sandbox
                    .emit(Emission::new(EventType::CostAlert))
                    .unwrap()
                    .delivery_ids,
            );
            sandbox.settled().await;
        }
        assert_eq!(sandbox.deliveries_held(), 3);
        let kept: Vec<String> = api
            .deliveries(&id)
            .await
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(kept, [made[4].clone(), made[3].clone(), made[2].clone()]);
        assert_eq!(receiver.recorded().len(), 5);
    })
    .await;
}

#[tokio::test]
async fn a_sandbox_stops_when_told() {
    bounded(async {
        let sandbox = Sandbox::builder().start().await.unwrap();
        let api = Api::new(&sandbox);
        assert_eq!(api.get("/api/webhooks").await.0, 200);
        let addr = sandbox.addr();
        sandbox.shutdown().await;
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    })
    .await;
}
