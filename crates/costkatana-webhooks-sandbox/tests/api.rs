//! The management API of PROTOCOL.md §7 over real HTTP: auth, the envelope,
//! validation with field paths and codes, masked secrets, ids, listing,
//! updates, deletes, the zero stats, the event list and queue counts.

mod support;

use costkatana_webhooks_sandbox::{RunningSandbox, Sandbox};
use reqwest::Method;
use serde_json::{json, Value};
use support::api::{answer, Api};
use support::{bounded, Receiver, Script};

const KEY: &str = "dak_65f0c0ffee0000000000beef_0123456789abcdef_s3cret";

async fn sandbox() -> (RunningSandbox, Api) {
    let sandbox = Sandbox::builder()
        .api_key(KEY)
        .speed(1000.0)
        .start()
        .await
        .unwrap();
    let api = Api::new(&sandbox);
    (sandbox, api)
}

fn is_hex24(id: &Value) -> bool {
    id.as_str()
        .is_some_and(|id| id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[tokio::test]
async fn every_route_wants_the_key() {
    bounded(async {
        let (_sandbox, api) = sandbox().await;
        let routes = [
            (Method::GET, "/api/webhooks/events"),
            (Method::GET, "/api/webhooks/queue/stats"),
            (Method::GET, "/api/webhooks"),
            (Method::POST, "/api/webhooks"),
            (Method::GET, "/api/webhooks/65f0c0ffee0000000000beef"),
            (Method::PUT, "/api/webhooks/65f0c0ffee0000000000beef"),
            (Method::DELETE, "/api/webhooks/65f0c0ffee0000000000beef"),
            (Method::POST, "/api/webhooks/65f0c0ffee0000000000beef/test"),
            (Method::GET, "/api/webhooks/65f0c0ffee0000000000beef/stats"),
            (
                Method::GET,
                "/api/webhooks/65f0c0ffee0000000000beef/deliveries",
            ),
            (
                Method::GET,
                "/api/webhooks/deliveries/65f0c0ffee0000000000beef",
            ),
            (
                Method::POST,
                "/api/webhooks/deliveries/65f0c0ffee0000000000beef/replay",
            ),
            (
                Method::GET,
                "/sandbox/webhooks/65f0c0ffee0000000000beef/secret",
            ),
            (Method::POST, "/sandbox/events"),
        ];
        for (method, path) in routes {
            let (status, body) = answer(api.raw(method.clone(), path)).await;
            assert_eq!(status, 401, "{method} {path}");
            assert_eq!(
                body,
                json!({"success": false, "message": "No authentication token provided"}),
                "{method} {path}"
            );
            let (status, body) =
                answer(api.raw(method.clone(), path).bearer_auth("dak_wrong")).await;
            assert_eq!(status, 401, "{method} {path}");
            assert_eq!(
                body,
                json!({"success": false, "message": "Authentication failed"})
            );
            // Not a Bearer token: none given.
            let basic = api
                .raw(method.clone(), path)
                .header("authorization", format!("Basic {KEY}"));
            assert_eq!(
                answer(basic).await.1["message"],
                "No authentication token provided"
            );
        }
        let (status, body) = api.get("/api/webhooks").await;
        assert_eq!(
            (status, body),
            (200, json!({"success": true, "webhooks": []}))
        );
    })
    .await;
}

#[tokio::test]
async fn unknown_routes_are_404_as_express_says_it() {
    bounded(async {
        let (_sandbox, api) = sandbox().await;
        let (status, body) = answer(api.raw(Method::GET, "/api/nothing")).await;
        assert_eq!(status, 404);
        assert_eq!(
            body,
            json!({"success": false, "message": "Cannot GET /api/nothing"})
        );
        let (status, body) = api.call(Method::PATCH, "/api/webhooks", None).await;
        assert_eq!(status, 404);
        assert_eq!(body["message"], "Cannot PATCH /api/webhooks");
    })
    .await;
}

#[tokio::test]
async fn create_answers_the_live_shape_with_a_masked_generated_secret() {
    bounded(async {
        let (sandbox, api) = sandbox().await;
        let (status, body) = api
            .post(
                "/api/webhooks",
                json!({"name": "Cost alerts", "url": "https://example.com/hooks", "events": ["cost.alert", "budget.exceeded"],
                       "secret": "my_own_secret_1234"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["success"], true);
        let webhook = &body["webhook"];
        let keys: Vec<&str> = webhook.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["active", "createdAt", "events", "id", "name", "retryConfig", "secret", "url"]
        );
        assert!(is_hex24(&webhook["id"]), "{webhook}");
        assert_eq!(webhook["active"], true);
        assert_eq!(webhook["events"], json!(["cost.alert", "budget.exceeded"]));
        assert_eq!(
            webhook["retryConfig"],
            json!({"maxRetries": 3, "backoffMultiplier": 2, "initialDelay": 5000})
        );
        assert!(webhook["createdAt"].as_str().unwrap().ends_with('Z'));

        // The secret sent was ignored: a new one of 64 hex characters,
        // shown only as **** and its last 4, everywhere.
        let id = webhook["id"].as_str().unwrap();
        let secret = api.secret(id).await;
        assert_eq!(sandbox.webhook_secret(id).as_deref(), Some(secret.as_str()));
        assert_eq!(secret.len(), 64);
        assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(secret, "my_own_secret_1234");
        let masked = format!("****{}", &secret[60..]);
        assert_eq!(webhook["secret"], masked);
        let detail = api.webhook(id).await;
        assert_eq!(detail["secret"], masked);
        let (_, list) = api.get("/api/webhooks").await;
        let (_, updated) = api.put(&format!("/api/webhooks/{id}"), json!({"secret": "again"})).await;
        for answer in [detail.to_string(), list.to_string(), updated.to_string()] {
            assert!(!answer.contains(&secret), "{answer}");
            assert!(!answer.contains("my_own_secret"), "{answer}");
        }
        assert_eq!(api.secret(id).await, secret, "an update does not change the secret");
    })
    .await;
}

#[tokio::test]
async fn validation_failures_name_each_field_with_zods_code() {
    bounded(async {
        let (_sandbox, api) = sandbox().await;
        let (status, body) = api.post("/api/webhooks", json!({})).await;
        assert_eq!(status, 400);
        assert_eq!(
            body,
            json!({"success": false, "message": "Validation failed", "errors": [
                {"field": "name", "message": "Required", "code": "invalid_type"},
                {"field": "url", "message": "Required", "code": "invalid_type"},
                {"field": "events", "message": "Required", "code": "invalid_type"},
            ]})
        );

        let (status, body) = api
            .post(
                "/api/webhooks",
                json!({"name": "x".repeat(101), "url": "not a url",
                       "events": ["cost.alert", "usage.spike_detected", "savings.milestone_reached"],
                       "description": "d".repeat(501), "timeout": 4999,
                       "retryConfig": {"maxRetries": 11, "backoffMultiplier": 0.5, "initialDelay": 60001},
                       "active": "yes"}),
            )
            .await;
        assert_eq!(status, 400);
        let errors: Vec<(&str, &str)> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
            .collect();
        assert_eq!(
            errors,
            [
                ("name", "too_big"),
                ("description", "too_big"),
                ("url", "invalid_string"),
                ("events.1", "invalid_enum_value"),
                ("events.2", "invalid_enum_value"),
                ("active", "invalid_type"),
                ("timeout", "too_small"),
                ("retryConfig.maxRetries", "too_big"),
                ("retryConfig.backoffMultiplier", "too_small"),
                ("retryConfig.initialDelay", "too_big"),
            ]
        );
        let messages: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap())
            .collect();
        assert_eq!(messages[0], "String must contain at most 100 character(s)");
        assert_eq!(messages[2], "Invalid url");
        assert!(messages[3].starts_with("Invalid enum value. Expected 'cost.alert' | "), "{}", messages[3]);
        assert!(messages[3].ends_with("received 'usage.spike_detected'"), "{}", messages[3]);
        assert_eq!(messages[5], "Expected boolean, received string");
        assert_eq!(messages[6], "Number must be greater than or equal to 5000");

        let too_many: Vec<&str> = vec!["cost.alert"; 51];
        let (_, body) = api
            .post("/api/webhooks", json!({"name": "n", "url": "http://x", "events": too_many}))
            .await;
        assert_eq!(
            body["errors"],
            json!([{"field": "events", "message": "Array must contain at most 50 element(s)", "code": "too_big"}])
        );
        let (_, body) = api
            .post("/api/webhooks", json!({"name": "n", "url": "http://x", "events": []}))
            .await;
        assert_eq!(body["errors"][0]["code"], "too_small");

        // Nothing was made.
        assert_eq!(api.get("/api/webhooks").await.1["webhooks"], json!([]));
    })
    .await;
}

#[tokio::test]
async fn ids_must_be_24_hex_characters() {
    bounded(async {
        let (_sandbox, api) = sandbox().await;
        for (method, path, field, message) in [
            (
                Method::GET,
                "/api/webhooks/123",
                "id",
                "Invalid webhook ID format",
            ),
            (
                Method::DELETE,
                "/api/webhooks/zzzzzzzzzzzzzzzzzzzzzzzz",
                "id",
                "Invalid webhook ID format",
            ),
            (
                Method::GET,
                "/api/webhooks/65f0c0ffee0000000000beef0/stats",
                "id",
                "Invalid webhook ID format",
            ),
            (
                Method::GET,
                "/api/webhooks/deliveries/nope",
                "deliveryId",
                "Invalid delivery ID format",
            ),
            (
                Method::POST,
                "/api/webhooks/deliveries/nope/replay",
                "deliveryId",
                "Invalid delivery ID format",
            ),
        ] {
            let (status, body) = api.call(method, path, None).await;
            assert_eq!(status, 400, "{path}");
            assert_eq!(
                body,
                json!({"success": false, "message": "Validation failed",
                       "errors": [{"field": field, "message": message, "code": "invalid_string"}]}),
                "{path}"
            );
        }
        for path in [
            "/api/webhooks/65f0c0ffee0000000000beef",
            "/api/webhooks/65f0c0ffee0000000000beef/stats",
            "/api/webhooks/65f0c0ffee0000000000beef/deliveries",
        ] {
            let (status, body) = api.get(path).await;
            assert_eq!(
                (status, body),
                (
                    404,
                    json!({"success": false, "message": "Webhook not found"})
                )
            );
        }
        let (status, body) = api
            .get("/api/webhooks/deliveries/65f0c0ffee0000000000beef")
            .await;
        assert_eq!(
            (status, body),
            (
                404,
                json!({"success": false, "message": "Delivery not found"})
            )
        );
        let (status, _) = api
            .put("/api/webhooks/65f0c0ffee0000000000beef", json!({}))
            .await;
        assert_eq!(status, 404);
        let (status, _) = api.delete("/api/webhooks/65f0c0ffee0000000000beef").await;
        assert_eq!(status, 404);
    })
    .await;
}

#[tokio::test]
async fn the_list_is_newest_first_and_filters() {
    bounded(async {
        let (_sandbox, api) = sandbox().await;
        let first = api
            .create_webhook(
                "http://127.0.0.1:9/a",
                &["cost.alert"],
                json!({"description": "first"}),
            )
            .await;
        let second = api
            .create_webhook(
                "http://127.0.0.1:9/b",
                &["budget.exceeded", "security.alert"],
                json!({"active": false}),
            )
            .await;
        let third = api
            .create_webhook("http://127.0.0.1:9/c", &["security.alert"], json!({}))
            .await;
        let ids = |body: &Value| -> Vec<String> {
            body["webhooks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["id"].as_str().unwrap().to_owned())
                .collect()
        };
        let (status, all) = api.get("/api/webhooks").await;
        assert_eq!(status, 200);
        assert_eq!(ids(&all), [third.clone(), second.clone(), first.clone()]);
        let listed = &all["webhooks"][2];
        assert_eq!(listed["description"], "first");
        assert_eq!(listed["version"], "1.0.0");
        assert_eq!(
            listed["stats"],
            json!({"totalDeliveries": 0, "successfulDeliveries": 0, "failedDeliveries": 0})
        );
        assert!(all["webhooks"][0].get("description").is_none());
        assert!(listed.get("secret").is_none());

        assert_eq!(
            ids(&api.get("/api/webhooks?active=true").await.1),
            [third.clone(), first.clone()]
        );
        assert_eq!(
            ids(&api.get("/api/webhooks?active=false").await.1),
            std::slice::from_ref(&second)
        );
        assert_eq!(
            ids(&api.get("/api/webhooks?events=security.alert").await.1),
            [third.clone(), second.clone()]
        );
        assert_eq!(
            ids(&api
                .get("/api/webhooks?events=cost.alert&events=budget.exceeded")
                .await
                .1),
            [second.clone(), first.clone()]
        );
        // limit and offset are read, and ignored.
        assert_eq!(
            ids(&api.get("/api/webhooks?limit=1&offset=2").await.1).len(),
            3
        );
    })
    .await;
}

#[tokio::test]
async fn details_updates_and_deletes() {
    bounded(async {
        let (_sandbox, api) = sandbox().await;
        let id = api
            .create_webhook(
                "http://127.0.0.1:9/hook",
                &["cost.alert"],
                json!({"description": "  spaced  ", "timeout": 10000, "headers": {"X-Team": "finance"},
                       "filters": {"severity": ["high", "critical"], "minCost": 50, "unknown": 1},
                       "auth": {"type": "bearer", "credentials": {"token": "t0ken"}},
                       "payloadTemplate": "{\"text\": \"{{data.title}}\"}", "useDefaultPayload": true}),
            )
            .await;
        let detail = api.webhook(&id).await;
        assert_eq!(detail["description"], "spaced");
        assert_eq!(detail["timeout"], 10000);
        assert_eq!(detail["headers"], json!({"X-Team": "finance"}));
        assert_eq!(detail["filters"], json!({"severity": ["high", "critical"], "minCost": 50}));
        assert_eq!(detail["auth"], json!({"type": "bearer", "hasCredentials": true}));
        assert_eq!(detail["payloadTemplate"], "{\"text\": \"{{data.title}}\"}");
        assert_eq!(detail["useDefaultPayload"], true);
        assert!(!detail.to_string().contains("t0ken"), "credentials are never shown");

        let (status, body) = api
            .put(&format!("/api/webhooks/{id}"), json!({"name": "Renamed", "retryConfig": {"maxRetries": 5}}))
            .await;
        assert_eq!(status, 200, "{body}");
        let updated = &body["webhook"];
        let keys: Vec<&str> = updated.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["active", "events", "id", "name", "retryConfig", "updatedAt", "url", "version"]
        );
        assert_eq!(updated["name"], "Renamed");
        assert_eq!(updated["events"], json!(["cost.alert"]), "fields not given are kept");
        assert_eq!(
            updated["retryConfig"],
            json!({"maxRetries": 5, "backoffMultiplier": 2, "initialDelay": 5000})
        );
        let (status, body) = api.put(&format!("/api/webhooks/{id}"), json!({"events": []})).await;
        assert_eq!(status, 400);
        assert_eq!(body["errors"][0]["field"], "events");
        assert_eq!(api.webhook(&id).await["timeout"], 10000);

        let (status, body) = api.delete(&format!("/api/webhooks/{id}")).await;
        assert_eq!((status, body), (200, json!({"success": true, "message": "Webhook deleted successfully"})));
        assert_eq!(api.get(&format!("/api/webhooks/{id}")).await.0, 404);
    })
    .await;
}

#[tokio::test]
async fn stats_report_zeros_beside_the_moving_counters() {
    bounded(async {
        let (sandbox, api) = sandbox().await;
        let receiver = Receiver::start(vec![Script::Status(200), Script::Status(404)]).await;
        let id = api.create_webhook(&receiver.url, &["cost.alert"], json!({})).await;
        for _ in 0..2 {
            sandbox
                .emit(costkatana_webhooks_sandbox::Emission::new(costkatana_webhooks::EventType::CostAlert))
                .unwrap();
        }
        sandbox.settled().await;

        let (status, body) = api.get(&format!("/api/webhooks/{id}/stats")).await;
        assert_eq!(status, 200);
        let window = json!({"total": 0, "successful": 0, "failed": 0});
        assert_eq!(
            body,
            json!({"success": true, "stats": {
                "overall": {"total": 0, "successful": 0, "failed": 0, "successRate": "0.00", "averageResponseTime": null},
                "last24h": window, "last7d": window, "last30d": window,
            }})
        );
        let stats = &api.webhook(&id).await["stats"];
        assert_eq!(stats["totalDeliveries"], 2);
        assert_eq!(stats["successfulDeliveries"], 1);
        assert_eq!(stats["failedDeliveries"], 1);
        for key in ["lastDeliveryAt", "lastSuccessAt", "lastFailureAt"] {
            assert!(stats[key].is_string(), "{key}: {stats}");
        }
    })
    .await;
}

#[tokio::test]
async fn the_event_list_and_queue_counts() {
    bounded(async {
        let (_sandbox, api) = sandbox().await;
        let (status, body) = api.get("/api/webhooks/events").await;
        assert_eq!(status, 200);
        assert_eq!(body["success"], true);
        assert_eq!(body["total"], 57);
        let events = body["events"].as_array().unwrap();
        assert_eq!(events.len(), 57);
        assert_eq!(
            events[0],
            json!({"key": "COST_ALERT", "value": "cost.alert", "category": "cost", "name": "alert"})
        );
        assert!(events.iter().any(|e| e["value"] == "savings.milestone"));
        assert!(!events.iter().any(|e| e["value"] == "savings.milestone_reached"));
        assert_eq!(body["categories"].as_array().unwrap().len(), 21);

        let (status, body) = api.get("/api/webhooks/queue/stats").await;
        assert_eq!(
            (status, body),
            (200, json!({"success": true, "queue": {"waiting": 0, "active": 0, "completed": 0, "failed": 0}}))
        );
        let response = api
            .raw(Method::GET, "/api/webhooks/queue/stats")
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["cache-control"], "no-store, no-cache, must-revalidate");
    })
    .await;
}

#[tokio::test]
async fn bodies_that_are_not_json_objects() {
    bounded(async {
        let (_sandbox, api) = sandbox().await;
        // Not declared JSON: read as an empty object, as Express does.
        let plain = api.raw(Method::POST, "/api/webhooks").bearer_auth(KEY).body("name=x");
        let (status, body) = answer(plain).await;
        assert_eq!(status, 400);
        assert_eq!(body["errors"].as_array().unwrap().len(), 3);
        let broken = api
            .raw(Method::POST, "/api/webhooks")
            .bearer_auth(KEY)
            .header("content-type", "application/json")
            .body("{\"name\":");
        let (status, body) = answer(broken).await;
        assert_eq!(status, 400);
        assert_eq!(body["success"], false);
        let (status, body) = api.post("/api/webhooks", json!(["x"])).await;
        assert_eq!(status, 400);
        assert_eq!(
            body["errors"],
            json!([{"field": "", "message": "Expected object, received array", "code": "invalid_type"}])
        );
    })
    .await;
}
