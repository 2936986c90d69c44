//! Shared by the pipeline tests: signed deliveries and a receiver whose
//! handlers count their runs.

#![allow(dead_code, unreachable_pub)]

pub mod resident;
pub mod vectors;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use costkatana_webhooks::dedupe::{Claim, DedupeStore, MemoryStore};
use costkatana_webhooks::signing::sign;
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{Delivery, HandlerResult, Receiver, ReceiverBuilder};
use costkatana_webhooks::{EventType, ManualClock, Outcome, Payload, Scheme, Verifier};

pub const SECRET: &str = "whsec_pipeline";
pub const NOW: i64 = 1_777_377_600_000;

/// A signed request, resent unchanged like the sender's retries.
#[derive(Clone)]
pub struct Request {
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Request {
    pub fn event(id: &str) -> Request {
        Request::of(EventType::CostAlert, id)
    }

    pub fn of(ty: EventType, id: &str) -> Request {
        Request::raw(sample_event(&ty, Shape::Camel, id, NOW).into_bytes())
    }

    pub fn raw(body: Vec<u8>) -> Request {
        let headers = sign(Scheme::Current, SECRET, NOW, &body);
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

/// Handler runs per event id (or `<template>` / `<json>` for the fallback).
#[derive(Clone, Default)]
pub struct Runs(Arc<Mutex<HashMap<String, usize>>>);

impl Runs {
    pub fn record(&self, key: &str) {
        *self.0.lock().unwrap().entry(key.to_owned()).or_default() += 1;
    }

    pub fn of(&self, key: &str) -> usize {
        self.0.lock().unwrap().get(key).copied().unwrap_or(0)
    }

    pub fn total(&self) -> usize {
        self.0.lock().unwrap().values().sum()
    }

    pub fn keys(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

pub fn payload_key(payload: &Payload) -> String {
    match payload {
        Payload::Event(event) => event.id.clone().unwrap_or_default(),
        Payload::Template(_) => "<template>".into(),
        _ => "<json>".into(),
    }
}

/// A verifier on `clock` with [`SECRET`].
pub fn verifier(clock: &Arc<ManualClock>) -> Verifier {
    Verifier::builder()
        .secret(SECRET)
        .clock(clock.clone())
        .build()
        .unwrap()
}

/// A receiver builder with [`SECRET`] on `clock`, and no handler yet.
pub fn receiver_on(clock: &Arc<ManualClock>) -> ReceiverBuilder {
    Receiver::builder().secret(SECRET).clock(clock.clone())
}

/// A receiver builder whose only handler is `fallback`.
pub fn builder<F, Fut>(clock: &Arc<ManualClock>, fallback: F) -> ReceiverBuilder
where
    F: Fn(Payload, Delivery) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = HandlerResult> + Send + 'static,
{
    receiver_on(clock).fallback(fallback)
}

/// The outcome's reason code (`processed`, `duplicate`, or the error code).
pub fn code(outcome: &Outcome) -> &'static str {
    outcome.label()
}

/// A claim on the memory store, which answers synchronously.
pub fn claim_now(store: &MemoryStore, key: &str) -> Claim {
    // MemoryStore answers synchronously; its futures are ready at once.
    let mut future = store.claim(key, std::time::Duration::from_secs(60));
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(result) => result.unwrap(),
        std::task::Poll::Pending => unreachable!("the memory store never waits"),
    }
}

/// The `i`-th of many distinct, realistic dedupe keys.
pub fn key(i: usize) -> String {
    // About 60 bytes, like `<namespace>:event:<prefix>_<uuid>`.
    format!("default:event:cost_alert_{i:08x}-0b1d-4c5e-9f7a-1b2c3d4e5f60")
}
