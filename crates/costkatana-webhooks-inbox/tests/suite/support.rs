//! Signed deliveries and counting handlers for the inbox suites.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use costkatana_webhooks::inbox::NewEntry;
use costkatana_webhooks::signing::sign;
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{EventType, HandlerError, HandlerResult, Outcome, Receiver, Scheme};

pub const SECRET: &str = "whsec_inbox_suite";

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A stored delivery written straight to the store (no receiver, no
/// signature: for what only reads it back).
pub fn entry(event_id: Option<&str>, event_type: &str, received_at_ms: i64) -> NewEntry {
    let key = event_id.map_or_else(
        || format!("sig:{received_at_ms}"),
        |id| format!("event:{id}"),
    );
    NewEntry {
        dedupe_key: format!("5:suite:{key}"),
        event_id: event_id.map(str::to_owned),
        event_type: Some(event_type.to_owned()),
        headers: vec![("x-webhook-timestamp".to_owned(), received_at_ms.to_string())],
        body: Bytes::from_static(b"{}"),
        received_at_ms,
    }
}

/// A signed request, resent unchanged like the sender's retries.
#[derive(Clone)]
pub struct Request {
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Request {
    pub fn event(id: &str) -> Request {
        let body = sample_event(&EventType::CostAlert, Shape::Camel, id, now_ms()).into_bytes();
        let mut headers = sign(Scheme::Current, SECRET, now_ms(), &body);
        headers.push(("Authorization".into(), "Bearer inbox-suite-token".into()));
        Request {
            headers,
            body: body.into(),
        }
    }

    pub async fn send(&self, receiver: &Receiver) -> Outcome {
        receiver
            .receive("POST", &self.headers, self.body.clone())
            .await
    }
}

/// Handler runs per event id.
#[derive(Clone, Default)]
pub struct Runs(Arc<Mutex<HashMap<String, usize>>>);

impl Runs {
    /// Counts a run of `id`; returns the count so far.
    pub fn record(&self, id: &str) -> usize {
        let mut runs = self.0.lock().unwrap();
        let count = runs.entry(id.to_owned()).or_default();
        *count += 1;
        *count
    }

    pub fn of(&self, id: &str) -> usize {
        self.0.lock().unwrap().get(id).copied().unwrap_or(0)
    }

    pub fn total(&self) -> usize {
        self.0.lock().unwrap().values().sum()
    }
}

/// What a test event's id asks of its handler on its `run`-th run:
/// `refuse…` is refused, `fail-<n>-…` fails its first `n` runs, the
/// rest succeed.
pub fn scripted(id: &str, run: usize) -> HandlerResult {
    if id.starts_with("refuse") {
        return Err(HandlerError::refuse("not for us"));
    }
    if let Some(n) = id.strip_prefix("fail-").and_then(|r| r.split('-').next()) {
        if run <= n.parse::<usize>().unwrap() {
            return Err(HandlerError::from("downstream answered 500"));
        }
    }
    Ok(())
}

/// Polls `done` every 10 ms for up to 20 s.
pub async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened: {what}");
}

/// Builds a receiver and starts its workers, as a server does.
pub trait Started {
    /// The built receiver, started.
    async fn started(self) -> Receiver;
}

impl Started for Result<Receiver, costkatana_webhooks::ConfigError> {
    async fn started(self) -> Receiver {
        let receiver = self.expect("the receiver builds");
        receiver.start().await.expect("the receiver starts");
        receiver
    }
}
