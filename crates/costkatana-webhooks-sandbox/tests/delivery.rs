//! The delivery engine of PROTOCOL.md §7 against real receivers on
//! 127.0.0.1: what is sent, each attempt its own record, retries with the
//! stored request, what fails at once, the webhook's counters, the test
//! route, and the delivery listing.

mod support;

use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::{EventType, ManualClock, Verifier};
use costkatana_webhooks_sandbox::{Emission, RunningSandbox, Sandbox};
use serde_json::{json, Value};
use support::api::Api;
use support::{bounded, closed_port_url, Receiver, Script};

const NOW: i64 = 1_777_377_600_000;
const SPEED: f64 = 1000.0;

async fn sandbox() -> (RunningSandbox, Api, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(NOW));
    let sandbox = Sandbox::builder()
        .api_key("dak_65f0c0ffee0000000000beef_0123456789abcdef_s3cret")
        .speed(SPEED)
        .clock(Arc::clone(&clock))
        .start()
        .await
        .unwrap();
    let api = Api::new(&sandbox);
    (sandbox, api, clock)
}

fn emit(sandbox: &RunningSandbox, ty: EventType) -> Vec<String> {
    sandbox.emit(Emission::new(ty)).unwrap().delivery_ids
}

/// The top-level keys of a JSON object text, in order.
fn key_order(body: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(body).unwrap();
    let value: Value = serde_json::from_str(text).unwrap();
    let mut keys: Vec<(usize, String)> = value
        .as_object()
        .unwrap()
        .keys()
        .map(|k| (text.find(&format!("\"{k}\":")).unwrap(), k.clone()))
        .collect();
    keys.sort();
    keys.into_iter().map(|(_, k)| k).collect()
}

#[tokio::test]
async fn a_delivery_is_signed_as_the_live_sender_signs_it() {
    bounded(async {
        let (sandbox, api, _clock) = sandbox().await;
        let receiver = Receiver::start(vec![Script::Status(200)]).await;
        let id = api
            .create_webhook(
                &receiver.url,
                &["cost.alert"],
                json!({"headers": {"X-Team": "finance", "X-Webhook-Timestamp": "0"},
                       "auth": {"type": "bearer", "credentials": {"token": "t0ken"}}}),
            )
            .await;
        let ids = emit(&sandbox, EventType::CostAlert);
        assert_eq!(ids.len(), 1);
        // Not subscribed: nothing for it.
        assert!(emit(&sandbox, EventType::BudgetExceeded).is_empty());
        sandbox.settled().await;

        let sent = receiver.recorded();
        assert_eq!(sent.len(), 1);
        let request = &sent[0];
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/webhooks/costkatana");
        let headers = &request.headers;
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["user-agent"], "CostKatana-Webhook/1.0");
        assert_eq!(headers["x-webhook-event-type"], "webhook-delivery");
        assert_eq!(headers["x-team"], "finance");
        assert_eq!(headers["authorization"], "Bearer t0ken");
        // The signature's headers are set last: a custom one cannot replace them.
        assert_eq!(headers["x-webhook-timestamp"], NOW.to_string());
        let signature = headers["x-webhook-signature"].to_str().unwrap().to_owned();
        assert_eq!(signature.len(), 64);
        let secret = api.secret(&id).await;
        let verified = Verifier::builder()
            .secret(secret.as_str())
            .build()
            .unwrap()
            .verify_at(headers, request.body.clone(), NOW)
            .expect("the receiver verifies it with the webhook's secret");
        let event = verified.event().unwrap();
        assert_eq!(event.event_type, EventType::CostAlert);

        assert_eq!(
            key_order(&request.body),
            ["eventId", "eventType", "occurredAt", "userId", "data"]
        );
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let event_id = body["eventId"].as_str().unwrap();
        let uuid = event_id.strip_prefix("cost_alert_").unwrap();
        assert_eq!((uuid.len(), &uuid[14..15]), (36, "4"), "{event_id}");
        assert_eq!(body["occurredAt"], "2026-04-28T12:00:00.000Z");
        assert_eq!(body["userId"], "65f0c0ffee0000000000beef");
        assert!(body["data"]["title"].is_string() && body["data"]["severity"].is_string());
        let compact = costkatana_webhooks::diagnose::minify(&request.body);
        assert_eq!(compact, request.body.as_ref(), "compact JSON");

        let record = api.delivery(&ids[0]).await;
        assert_eq!(record["status"], "success");
        assert_eq!(record["attempt"], 1);
        assert_eq!(record["retriesLeft"], 3);
        assert_eq!(record["eventId"], event_id);
        assert_eq!(record["eventType"], "cost.alert");
        assert_eq!(record["webhookId"], id);
        assert_eq!(record["eventData"], body["data"]);
        assert_eq!(record["signature"], signature);
        assert_eq!(record["request"]["url"], receiver.url);
        assert_eq!(record["request"]["method"], "POST");
        assert_eq!(
            record["request"]["body"],
            String::from_utf8_lossy(&request.body).as_ref()
        );
        assert_eq!(
            record["request"]["headers"]["X-Webhook-Signature"],
            signature
        );
        assert_eq!(record["request"]["timestamp"], "2026-04-28T12:00:00.000Z");
        assert_eq!(record["response"]["statusCode"], 200);
        assert_eq!(record["response"]["body"], r#"{"answer":1}"#);
        assert!(record["response"]["headers"]["content-length"].is_string());
        assert_eq!(record["metadata"], json!({}));
        assert!(record.get("error").is_none() && record.get("nextRetryAt").is_none());

        let stats = &api.webhook(&id).await["stats"];
        assert_eq!(
            (
                stats["totalDeliveries"].as_u64(),
                stats["successfulDeliveries"].as_u64()
            ),
            (Some(1), Some(1))
        );
        assert_eq!(stats["lastSuccessAt"], "2026-04-28T12:00:00.000Z");
    })
    .await;
}

#[tokio::test]
async fn a_5xx_is_retried_as_new_records_with_the_stored_request() {
    bounded(async {
        let (sandbox, api, clock) = sandbox().await;
        let receiver = Receiver::start(vec![Script::Status(503), Script::Status(500), Script::Status(200)]).await;
        let id = api
            .create_webhook(
                &receiver.url,
                &["budget.exceeded"],
                json!({"retryConfig": {"maxRetries": 3, "backoffMultiplier": 3, "initialDelay": 1000}}),
            )
            .await;
        let first = emit(&sandbox, EventType::BudgetExceeded);
        // Later attempts happen later, as far as the records can tell.
        clock.advance_ms(60_000);
        sandbox.settled().await;

        // The receiver got the same request three times: body, timestamp
        // and signature unchanged.
        let sent = receiver.recorded();
        assert_eq!(sent.len(), 3);
        for retry in &sent[1..] {
            assert_eq!(retry.body, sent[0].body);
            assert_eq!(retry.headers, sent[0].headers);
        }
        assert_eq!(sent[2].headers["x-webhook-timestamp"], NOW.to_string());

        let records = api.deliveries(&id).await;
        let attempts: Vec<(u64, &str)> = records
            .iter()
            .map(|r| (r["attempt"].as_u64().unwrap(), r["status"].as_str().unwrap()))
            .collect();
        assert_eq!(attempts, [(3, "success"), (2, "failed"), (1, "failed")], "newest first");
        let (third, second, original) = (&records[0], &records[1], &records[2]);
        assert_eq!(original["id"], first[0]);
        for record in &records {
            assert_eq!(record["eventId"], original["eventId"]);
            assert_eq!(record["request"], original["request"], "the stored request is shared");
        }
        assert_eq!(
            original["error"]["message"], "Retry scheduled due to: HTTP 503",
            "{original}"
        );
        assert_eq!(second["error"]["message"], "Retry scheduled due to: HTTP 500");
        assert_eq!(original["response"]["statusCode"], 503);
        assert_eq!(
            (original["retriesLeft"].as_u64(), second["retriesLeft"].as_u64(), third["retriesLeft"].as_u64()),
            (Some(2), Some(1), Some(1))
        );

        // initialDelay × multiplier^(attempt − 1) × 0.85–1.15, ÷ speed.
        for (record, next, nominal_ms) in [(original, 2, 3000.0), (second, 3, 9000.0)] {
            let error = &record["error"];
            assert_eq!(error["type"], "retry_scheduled");
            assert_eq!(error["details"]["nextAttempt"], next);
            let delay = error["details"]["delay"].as_f64().unwrap() * SPEED;
            assert!(
                (nominal_ms * 0.85..=nominal_ms * 1.15).contains(&delay),
                "attempt {next}: {delay} ms for {nominal_ms}"
            );
            assert_eq!(error["details"]["retriesLeft"], record["retriesLeft"]);
            assert!(record["nextRetryAt"].is_string());
        }
        let id_of = |record: &Value| record["id"].as_str().unwrap().to_owned();
        let second_full = api.delivery(&id_of(second)).await;
        let third_full = api.delivery(&id_of(third)).await;
        assert_eq!(second_full["metadata"]["previousAttemptId"], original["id"]);
        assert_eq!(third_full["metadata"]["previousAttemptId"], second["id"]);
        assert!(second_full.get("signature").is_none(), "as on the live service");
        assert_eq!(
            api.delivery(&id_of(original)).await["signature"],
            sent[0].headers["x-webhook-signature"].to_str().unwrap()
        );

        // Only the attempt that settled the delivery moved the counters.
        let stats = &api.webhook(&id).await["stats"];
        assert_eq!(
            (stats["totalDeliveries"].as_u64(), stats["successfulDeliveries"].as_u64(), stats["failedDeliveries"].as_u64()),
            (Some(1), Some(1), Some(0))
        );
    })
    .await;
}

#[tokio::test]
async fn retries_run_out_and_zero_retries_reads_as_three() {
    bounded(async {
        let (sandbox, api, _clock) = sandbox().await;
        let receiver = Receiver::start(vec![Script::Status(502)]).await;
        let id = api
            .create_webhook(
                &receiver.url,
                &["cost.alert"],
                json!({"retryConfig": {"maxRetries": 0, "initialDelay": 1000}}),
            )
            .await;
        emit(&sandbox, EventType::CostAlert);
        sandbox.settled().await;
        assert_eq!(receiver.recorded().len(), 4, "1 attempt + 3 retries");
        let records = api.deliveries(&id).await;
        assert_eq!(records.len(), 4);
        let last = &records[0];
        assert_eq!(last["attempt"], 4);
        assert_eq!(last["retriesLeft"], 0);
        assert_eq!(last["status"], "failed");
        assert_eq!(
            last["error"],
            json!({"type": "http_error", "message": "HTTP 502", "code": "502"})
        );
        let stats = &api.webhook(&id).await["stats"];
        assert_eq!(
            (
                stats["totalDeliveries"].as_u64(),
                stats["failedDeliveries"].as_u64()
            ),
            (Some(1), Some(1))
        );
        assert!(stats["lastFailureAt"].is_string());
    })
    .await;
}

#[tokio::test]
async fn a_refused_connection_fails_at_once_without_retry() {
    bounded(async {
        let (sandbox, api, _clock) = sandbox().await;
        let url = closed_port_url();
        let port = url.split(':').nth(2).unwrap().split('/').next().unwrap().to_owned();
        let id = api.create_webhook(&url, &["cost.alert"], json!({})).await;
        emit(&sandbox, EventType::CostAlert);
        sandbox.settled().await;
        let records = api.deliveries(&id).await;
        assert_eq!(records.len(), 1, "no retry");
        let record = &records[0];
        assert_eq!(record["status"], "failed");
        assert_eq!(
            record["error"],
            json!({"type": "network_error", "message": format!("connect ECONNREFUSED 127.0.0.1:{port}"), "code": "ECONNREFUSED"})
        );
        assert_eq!(record["retriesLeft"], 3);
        assert!(record.get("response").is_none());
        assert_eq!(api.webhook(&id).await["stats"]["failedDeliveries"], 1);
    })
    .await;
}

/// Whether this machine's resolver says at once that `.invalid` names do
/// not exist (some resolvers answer every name; an offline one may take
/// its time): the unknown-host case is only checked where it can be.
async fn resolver_refuses_invalid_names() -> bool {
    use std::net::ToSocketAddrs;
    let lookup = tokio::task::spawn_blocking(|| {
        ("costkatana-sandbox-test.invalid", 80)
            .to_socket_addrs()
            .is_err()
    });
    matches!(
        tokio::time::timeout(Duration::from_secs(3), lookup).await,
        Ok(Ok(true))
    )
}

#[tokio::test]
async fn an_unknown_host_fails_at_once_without_retry() {
    if !resolver_refuses_invalid_names().await {
        eprintln!("skipped: this machine's resolver does not refuse .invalid names at once");
        return;
    }
    bounded(async {
        let (sandbox, api, _clock) = sandbox().await;
        // `.invalid` never resolves (RFC 6761).
        let id = api
            .create_webhook("http://costkatana-sandbox-test.invalid/hook", &["cost.alert"], json!({}))
            .await;
        emit(&sandbox, EventType::CostAlert);
        sandbox.settled().await;
        let records = api.deliveries(&id).await;
        assert_eq!(records.len(), 1, "no retry");
        assert_eq!(
            records[0]["error"],
            json!({"type": "network_error", "message": "getaddrinfo ENOTFOUND costkatana-sandbox-test.invalid", "code": "ENOTFOUND"})
        );
    })
    .await;
}

#[tokio::test]
async fn other_answers_fail_at_once() {
    bounded(async {
        let (sandbox, api, _clock) = sandbox().await;
        for status in [400, 401, 404, 408, 409, 429] {
            let receiver = Receiver::start(vec![Script::Status(status), Script::Status(200)]).await;
            let id = api.create_webhook(&receiver.url, &["security.alert"], json!({})).await;
            emit(&sandbox, EventType::SecurityAlert);
            sandbox.settled().await;
            assert_eq!(receiver.recorded().len(), 1, "{status} was retried");
            let records = api.deliveries(&id).await;
            assert_eq!(records.len(), 1);
            assert_eq!(
                records[0]["error"],
                json!({"type": "http_error", "message": format!("HTTP {status}"), "code": status.to_string()})
            );
            assert_eq!(records[0]["response"]["statusCode"], status);
            api.delete(&format!("/api/webhooks/{id}")).await;
        }
        // A redirect is followed, as the live sender's client follows it:
        // here to a port where nothing listens.
        let receiver = Receiver::start(vec![Script::Status(302)]).await;
        let id = api.create_webhook(&receiver.url, &["security.alert"], json!({})).await;
        emit(&sandbox, EventType::SecurityAlert);
        sandbox.settled().await;
        let records = api.deliveries(&id).await;
        assert_eq!(records[0]["error"]["message"], "connect ECONNREFUSED 127.0.0.1:9");
    })
    .await;
}

#[tokio::test]
async fn a_time_out_is_retried_then_fails_as_timeout() {
    // Two real 5 s time-outs: the shortest a webhook may set.
    tokio::time::timeout(Duration::from_secs(40), async {
        let (sandbox, api, _clock) = sandbox().await;
        let receiver = Receiver::start(vec![Script::Hang]).await;
        let id = api
            .create_webhook(
                &receiver.url,
                &["cost.alert"],
                json!({"timeout": 5000, "retryConfig": {"maxRetries": 1, "initialDelay": 1000}}),
            )
            .await;
        emit(&sandbox, EventType::CostAlert);
        sandbox.settled().await;
        let records = api.deliveries(&id).await;
        assert_eq!(records.len(), 2);
        let (last, first) = (&records[0], &records[1]);
        assert_eq!(first["error"]["type"], "retry_scheduled");
        assert_eq!(first["error"]["message"], "Retry scheduled due to: Timeout");
        assert_eq!(first["response"]["statusCode"], 0);
        assert_eq!(last["status"], "failed");
        assert_eq!(
            last["error"],
            json!({"type": "timeout", "message": "Request timed out after 5000ms", "code": "ECONNABORTED"})
        );
        assert_eq!(last["response"]["statusCode"], 0);
        assert_eq!(last["response"]["body"], "");
    })
    .await
    .expect("two 5 s time-outs end within 40 s");
}

#[tokio::test]
async fn the_test_route_sends_a_system_error_titled_webhook_test() {
    bounded(async {
        let (sandbox, api, _clock) = sandbox().await;
        let receiver = Receiver::start(vec![Script::Status(200)]).await;
        let id = api.create_webhook(&receiver.url, &["cost.alert"], json!({"name": "Mine"})).await;
        let (status, body) = api
            .post(&format!("/api/webhooks/{id}/test"), json!({"testData": {"note": "hello"}}))
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["message"], "Test webhook queued for delivery");
        let delivery_id = body["deliveryId"].as_str().unwrap().to_owned();
        sandbox.settled().await;
        let sent: Value = serde_json::from_slice(&receiver.recorded()[0].body).unwrap();
        assert_eq!(sent["eventType"], "system.error");
        assert!(sent["eventId"].as_str().unwrap().starts_with("test_"));
        assert_eq!(
            sent["data"],
            json!({"title": "Webhook Test", "description": "This is a test webhook delivery", "severity": "low",
                   "resource": {"type": "webhook", "id": id, "name": "Mine"}, "context": {"note": "hello"}})
        );
        assert_eq!(api.delivery(&delivery_id).await["status"], "success");

        let (status, body) = api.post(&format!("/api/webhooks/{id}/test"), json!({"testData": "x"})).await;
        assert_eq!(status, 400);
        assert_eq!(body["errors"][0]["field"], "testData");
        api.put(&format!("/api/webhooks/{id}"), json!({"active": false})).await;
        let (status, body) = api.post(&format!("/api/webhooks/{id}/test"), json!({})).await;
        assert_eq!((status, body), (400, json!({"success": false, "message": "Webhook is not active"})));
        let (status, _) = api.post("/api/webhooks/65f0c0ffee0000000000beef/test", json!({})).await;
        assert_eq!(status, 404);
    })
    .await;
}

#[tokio::test]
async fn deliveries_are_listed_newest_first_filtered_and_paged() {
    bounded(async {
        let (sandbox, api, _clock) = sandbox().await;
        let receiver = Receiver::start(vec![
            Script::Status(200),
            Script::Status(404),
            Script::Status(200),
            Script::Status(404),
            Script::Status(200),
        ])
        .await;
        let id = api
            .create_webhook(&receiver.url, &["cost.alert", "budget.warning"], json!({}))
            .await;
        let mut made = Vec::new();
        for ty in [
            EventType::CostAlert,
            EventType::BudgetWarning,
            EventType::CostAlert,
            EventType::BudgetWarning,
            EventType::CostAlert,
        ] {
            made.extend(emit(&sandbox, ty));
            sandbox.settled().await;
        }
        let page = |query: &'static str| {
            let api = &api;
            let id = id.clone();
            async move {
                let (status, body) = api
                    .get(&format!("/api/webhooks/{id}/deliveries{query}"))
                    .await;
                assert_eq!(status, 200, "{body}");
                body
            }
        };
        let ids = |body: &Value| -> Vec<String> {
            body["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_str().unwrap().to_owned())
                .collect()
        };
        let all = page("").await;
        let newest_first: Vec<String> = made.iter().rev().cloned().collect();
        assert_eq!(ids(&all), newest_first);
        assert_eq!(
            all["pagination"],
            json!({"total": 5, "limit": 20, "offset": 0, "hasMore": false})
        );
        let listed = &all["deliveries"][0];
        assert!(listed["request"].get("body").is_none() && listed.get("signature").is_none());
        assert!(listed.get("metadata").is_none());

        assert_eq!(
            ids(&page("?status=success").await),
            [made[4].clone(), made[2].clone(), made[0].clone()]
        );
        assert_eq!(
            ids(&page("?status=failed").await),
            [made[3].clone(), made[1].clone()]
        );
        assert_eq!(
            ids(&page("?eventType=budget.warning").await),
            [made[3].clone(), made[1].clone()]
        );
        assert_eq!(ids(&page("?status=pending").await), Vec::<String>::new());
        let first_two = page("?limit=2").await;
        assert_eq!(ids(&first_two), newest_first[..2]);
        assert_eq!(
            first_two["pagination"],
            json!({"total": 5, "limit": 2, "offset": 0, "hasMore": true})
        );
        let last = page("?limit=2&offset=4").await;
        assert_eq!(ids(&last), newest_first[4..]);
        assert_eq!(last["pagination"]["hasMore"], false);
        assert_eq!(page("?limit=1000").await["pagination"]["limit"], 100);

        let (status, body) = api
            .get(&format!("/api/webhooks/{id}/deliveries?status=done"))
            .await;
        assert_eq!(status, 400);
        assert_eq!(body["errors"][0]["field"], "status");
        assert_eq!(body["errors"][0]["code"], "invalid_enum_value");
    })
    .await;
}

#[tokio::test]
async fn deleting_a_webhook_deletes_its_records() {
    bounded(async {
        let (sandbox, api, _clock) = sandbox().await;
        let receiver = Receiver::start(vec![Script::Status(200)]).await;
        let id = api
            .create_webhook(&receiver.url, &["cost.alert"], json!({}))
            .await;
        let made = emit(&sandbox, EventType::CostAlert);
        sandbox.settled().await;
        api.delete(&format!("/api/webhooks/{id}")).await;
        let (status, _) = api
            .get(&format!("/api/webhooks/deliveries/{}", made[0]))
            .await;
        assert_eq!(status, 404);
        assert_eq!(sandbox.deliveries_held(), 0);
    })
    .await;
}
