//! The sandbox's own routes under `/sandbox` (what the live dashboard can
//! do): a webhook's full secret, and emitting an event of any type.

mod support;

use costkatana_webhooks::Verifier;
use costkatana_webhooks_sandbox::Sandbox;
use serde_json::{json, Value};
use support::api::Api;
use support::{bounded, Receiver, Script};

#[tokio::test]
async fn the_full_secret_verifies_what_the_receiver_gets() {
    bounded(async {
        let sandbox = Sandbox::builder().start().await.unwrap();
        let api = Api::new(&sandbox);
        let receiver = Receiver::start(vec![Script::Status(200)]).await;
        let id = api
            .create_webhook(&receiver.url, &["budget.warning"], json!({}))
            .await;
        let (status, body) = api.get(&format!("/sandbox/webhooks/{id}/secret")).await;
        assert_eq!(status, 200);
        let secret = body["secret"].as_str().unwrap().to_owned();
        assert_eq!(body, json!({"success": true, "secret": secret}));

        let (status, body) = api
            .post("/sandbox/events", json!({"eventType": "budget.warning"}))
            .await;
        assert_eq!(status, 201, "{body}");
        sandbox.settled().await;
        let sent = &receiver.recorded()[0];
        let timestamp: i64 = sent.headers["x-webhook-timestamp"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let verifier = Verifier::builder().secret(secret.as_str()).build().unwrap();
        assert!(verifier
            .verify_at(&sent.headers, sent.body.clone(), timestamp)
            .is_ok());

        let (status, body) = api
            .get("/sandbox/webhooks/65f0c0ffee0000000000beef/secret")
            .await;
        assert_eq!(
            (status, body),
            (
                404,
                json!({"success": false, "message": "Webhook not found"})
            )
        );
        let (status, body) = api.get("/sandbox/webhooks/nope/secret").await;
        assert_eq!(status, 400);
        assert_eq!(body["errors"][0]["field"], "id");
    })
    .await;
}

#[tokio::test]
async fn emitting_an_event_with_data_and_a_user_id() {
    bounded(async {
        let sandbox = Sandbox::builder().start().await.unwrap();
        let api = Api::new(&sandbox);
        let receiver = Receiver::start(vec![Script::Status(200)]).await;
        let other = Receiver::start(vec![Script::Status(200)]).await;
        let id = api.create_webhook(&receiver.url, &["workflow.failed"], json!({})).await;
        api.create_webhook(&other.url, &["workflow.failed"], json!({"active": false})).await;
        api.create_webhook(&other.url, &["workflow.completed"], json!({})).await;

        // Sent as raw text: the data's key order is kept on the wire.
        let raw = r#"{"eventType": "workflow.failed", "userId": "user_42", "projectId": "proj_7",
                      "data": {"title": "Nightly ETL failed", "severity": "high", "amount": 1.50, "description": "step 3"}}"#;
        let request = api
            .raw(reqwest::Method::POST, "/sandbox/events")
            .bearer_auth(sandbox.api_key().expose())
            .header("content-type", "application/json")
            .body(raw);
        let (status, body) = support::api::answer(request).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["success"], true);
        assert_eq!(body["eventType"], "workflow.failed");
        let event_id = body["eventId"].as_str().unwrap().to_owned();
        assert!(event_id.starts_with("workflow_failed_"), "{event_id}");
        assert_eq!(body["deliveryIds"].as_array().unwrap().len(), 1, "the active subscriber only");
        sandbox.settled().await;

        assert!(other.recorded().is_empty());
        let sent = String::from_utf8(receiver.recorded()[0].body.to_vec()).unwrap();
        assert!(
            sent.contains(r#""userId":"user_42","projectId":"proj_7","data":{"title":"Nightly ETL failed","severity":"high","amount":1.50,"description":"step 3"}}"#),
            "{sent}"
        );
        let record = &api.deliveries(&id).await[0];
        assert_eq!(record["eventId"], event_id);
        assert_eq!(record["eventData"]["amount"], 1.5);

        // Without data: the sample of its type; the sandbox's user.
        let (_, body) = api.post("/sandbox/events", json!({"eventType": "workflow.failed"})).await;
        sandbox.settled().await;
        let sent: Value = serde_json::from_slice(&receiver.recorded()[1].body).unwrap();
        assert_eq!(sent["eventId"], body["eventId"]);
        assert_eq!(sent["userId"], sandbox.user_id());
        assert!(sent["data"]["title"].is_string());
        assert!(sent.get("projectId").is_none());
    })
    .await;
}

#[tokio::test]
async fn emitting_checks_the_event_type() {
    bounded(async {
        let sandbox = Sandbox::builder().start().await.unwrap();
        let api = Api::new(&sandbox);
        let (status, body) = api
            .post(
                "/sandbox/events",
                json!({"eventType": "usage.spike_detected", "data": "x"}),
            )
            .await;
        assert_eq!(status, 400);
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["eventType", "data"]);
        assert_eq!(body["errors"][0]["code"], "invalid_enum_value");
        let (status, body) = api.post("/sandbox/events", json!({})).await;
        assert_eq!(status, 400);
        assert_eq!(
            body["errors"][0],
            json!({"field": "eventType", "message": "Required", "code": "invalid_type"})
        );
    })
    .await;
}
