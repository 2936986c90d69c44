//! The delivery routes: a webhook's records, one record, a replay.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use serde_json::{json, Value};

use super::reply::{created, ok, ApiError, ApiResult};
use crate::shared::Shared;
use crate::store::ReplayRefused;
use crate::validate::{params, queries};

const NOT_FOUND: ApiError = ApiError::NotFound(Cow::Borrowed("Delivery not found"));

/// `GET /api/webhooks/:id/deliveries`: newest first, filtered by `status`
/// and `eventType`, paged by `limit` (20, at most 100) and `offset`.
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let id = params::webhook_id(&id)?;
    let query = queries::deliveries(query.as_deref())?;
    let store = shared.store();
    store
        .webhook(id)
        .ok_or(ApiError::NotFound(Cow::Borrowed("Webhook not found")))?;
    let (page, total) = store.deliveries_of(id, &query);
    let deliveries: Vec<Value> = page.iter().map(|d| d.listed_view()).collect();
    let returned = i64::try_from(deliveries.len()).unwrap_or(i64::MAX);
    let total = i64::try_from(total).unwrap_or(i64::MAX);
    Ok(ok(json!({
        "deliveries": deliveries,
        "pagination": {
            "total": total,
            "limit": query.limit,
            "offset": query.offset,
            "hasMore": query.offset.saturating_add(returned) < total,
        },
    })))
}

/// `GET /api/webhooks/deliveries/:deliveryId`: with the request's body, the
/// signature and the metadata.
pub(crate) async fn get(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let id = params::delivery_id(&id)?;
    let store = shared.store();
    let delivery = store.delivery(id).ok_or(NOT_FOUND)?;
    Ok(ok(json!({ "delivery": delivery.detailed_view() })))
}

/// `POST /api/webhooks/deliveries/:deliveryId/replay`.
pub(crate) async fn replay(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let id = params::delivery_id(&id)?;
    let replay = shared.replay(id).map_err(|refused| match refused {
        ReplayRefused::NotFound => NOT_FOUND,
        ReplayRefused::Pending => ApiError::BadRequest("Cannot replay a pending delivery".into()),
    })?;
    Ok(created(json!({
        "message": "Delivery replayed successfully",
        "deliveryId": replay.to_string(),
    })))
}
