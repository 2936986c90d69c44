//! The webhook routes: list, create, read, update, delete, test, stats.

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use serde_json::{json, Value};

use super::body;
use super::reply::{created, ok, uncached, ApiError, ApiResult};
use crate::random;
use crate::shared::{Shared, TestRefused};
use crate::validate::webhook::{check, Mode};
use crate::validate::{params, queries, Checker};

const NOT_FOUND: ApiError = ApiError::NotFound(Cow::Borrowed("Webhook not found"));

/// `GET /api/webhooks`: newest first, `?active=` and `?events=` filters.
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let query = queries::webhooks(query.as_deref())?;
    let webhooks: Vec<Value> = shared
        .store()
        .webhooks(&query)
        .iter()
        .map(|w| w.listed_view())
        .collect();
    Ok(uncached(ok(json!({ "webhooks": webhooks }))))
}

/// `POST /api/webhooks`: a `secret` in the body is dropped; a new one of 64
/// hex characters is made.
pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let fields = check(&body::json(&headers, &body)?, Mode::Create)?;
    let secret = random::hex::<32>().map_err(|err| ApiError::Internal(err.to_string()))?;
    let now = shared.now();
    let mut store = shared.store();
    let webhook = store.create_webhook(fields, secret, now);
    Ok(created(json!({ "webhook": webhook.created_view() })))
}

/// `GET /api/webhooks/:id`.
pub(crate) async fn get(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let id = params::webhook_id(&id)?;
    let store = shared.store();
    let webhook = store.webhook(id).ok_or(NOT_FOUND)?;
    Ok(ok(json!({ "webhook": webhook.detailed_view() })))
}

/// `PUT /api/webhooks/:id`: any subset of the create body.
pub(crate) async fn update(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let id = params::webhook_id(&id)?;
    let fields = check(&body::json(&headers, &body)?, Mode::Update)?;
    let now = shared.now();
    let mut store = shared.store();
    let webhook = store.update_webhook(id, fields, now).ok_or(NOT_FOUND)?;
    Ok(ok(json!({ "webhook": webhook.updated_view() })))
}

/// `DELETE /api/webhooks/:id`: its delivery records go too.
pub(crate) async fn delete(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let id = params::webhook_id(&id)?;
    if !shared.store().delete_webhook(id) {
        return Err(NOT_FOUND);
    }
    Ok(ok(json!({ "message": "Webhook deleted successfully" })))
}

/// `POST /api/webhooks/:id/test`: a `system.error` titled "Webhook Test",
/// `testData` as its context.
pub(crate) async fn test(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let id = params::webhook_id(&id)?;
    let body = body::json(&headers, &body)?;
    let mut checker = Checker::default();
    let test_data = match checker.object("", Some(&body)) {
        Some(map) => map
            .get("testData")
            .and_then(|value| checker.object("testData", Some(value)))
            .map(|data| Value::from(data.clone()).to_string()),
        None => None,
    };
    let test_data = checker.finish(test_data)?;
    let delivery = shared
        .test_webhook(id, test_data)
        .map_err(|refused| match refused {
            TestRefused::NotFound => NOT_FOUND,
            TestRefused::Inactive => ApiError::BadRequest("Webhook is not active".into()),
            TestRefused::NoRandomness => {
                ApiError::Internal("the operating system gave no random bytes".into())
            }
        })?;
    Ok(created(json!({
        "message": "Test webhook queued for delivery",
        "deliveryId": delivery.to_string(),
    })))
}

/// `GET /api/webhooks/:id/stats`: zeros, always, as on the live service
/// (its aggregation matches no record); the webhook's own counters on
/// `GET /api/webhooks/:id` are the ones that move.
pub(crate) async fn stats(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let id = params::webhook_id(&id)?;
    shared.store().webhook(id).ok_or(NOT_FOUND)?;
    let window = json!({ "total": 0, "successful": 0, "failed": 0 });
    Ok(ok(json!({
        "stats": {
            "overall": {
                "total": 0,
                "successful": 0,
                "failed": 0,
                "successRate": "0.00",
                "averageResponseTime": null,
            },
            "last24h": window,
            "last7d": window,
            "last30d": window,
        }
    })))
}
