//! A plain HTTP client for a sandbox's API: JSON in, status and JSON out.

use costkatana_webhooks_sandbox::RunningSandbox;
use reqwest::Method;
use serde_json::{json, Value};

pub struct Api {
    pub base: String,
    key: String,
    client: reqwest::Client,
}

impl Api {
    pub fn new(sandbox: &RunningSandbox) -> Api {
        Api {
            base: sandbox.url().to_owned(),
            key: sandbox.api_key().expose().to_owned(),
            client: reqwest::Client::new(),
        }
    }

    /// `method path` with the key and `body` as JSON; the status and the
    /// answer's JSON.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        answer(request).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// A raw request, for the auth tests.
    pub fn raw(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// Creates a webhook to `url` for `events`, `extra` fields merged in;
    /// its id.
    pub async fn create_webhook(&self, url: &str, events: &[&str], extra: Value) -> String {
        let mut body = json!({ "name": "Test hook", "url": url, "events": events });
        for (key, value) in extra.as_object().into_iter().flatten() {
            body[key] = value.clone();
        }
        let (status, answer) = self.post("/api/webhooks", body).await;
        assert_eq!(status, 201, "{answer}");
        answer["webhook"]["id"].as_str().unwrap().to_owned()
    }

    /// Every record of the webhook (up to 100), newest first.
    pub async fn deliveries(&self, webhook_id: &str) -> Vec<Value> {
        let (status, answer) = self
            .get(&format!("/api/webhooks/{webhook_id}/deliveries?limit=100"))
            .await;
        assert_eq!(status, 200, "{answer}");
        answer["deliveries"].as_array().unwrap().clone()
    }

    /// One record in full.
    pub async fn delivery(&self, id: &str) -> Value {
        let (status, answer) = self.get(&format!("/api/webhooks/deliveries/{id}")).await;
        assert_eq!(status, 200, "{answer}");
        answer["delivery"].clone()
    }

    /// The webhook as `GET /api/webhooks/:id` shows it.
    pub async fn webhook(&self, id: &str) -> Value {
        let (status, answer) = self.get(&format!("/api/webhooks/{id}")).await;
        assert_eq!(status, 200, "{answer}");
        answer["webhook"].clone()
    }

    /// The webhook's full secret, from the dashboard route.
    pub async fn secret(&self, id: &str) -> String {
        let (status, answer) = self.get(&format!("/sandbox/webhooks/{id}/secret")).await;
        assert_eq!(status, 200, "{answer}");
        answer["secret"].as_str().unwrap().to_owned()
    }
}

pub async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("the sandbox answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, value)
}
