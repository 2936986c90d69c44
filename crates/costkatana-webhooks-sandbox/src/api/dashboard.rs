//! What the live dashboard can do and the API cannot, under the sandbox's
//! own `/sandbox` prefix (same key): show a webhook's full secret, and
//! emit an event of any type.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::json;

use super::body;
use super::reply::{created, ok, ApiError, ApiResult};
use crate::model::catalog;
use crate::server::Emission;
use crate::shared::Shared;
use crate::validate::{emission, params};

/// `GET /sandbox/webhooks/:id/secret`: `{"secret": "<64 hex>"}`.
pub(crate) async fn secret(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let id = params::webhook_id(&id)?;
    let secret = shared
        .secret(id)
        .ok_or(ApiError::NotFound("Webhook not found".into()))?;
    Ok(ok(json!({ "secret": secret })))
}

/// `POST /sandbox/events` with `{"eventType", "data"?, "userId"?,
/// "projectId"?}`: the event goes to every active webhook subscribed to
/// its type; answers its id and the records made.
pub(crate) async fn emit(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let value = body::json(&headers, &body)?;
    let raw = body.as_deref().unwrap_or_default();
    let fields = emission::check(&value, raw)?;
    let event_type = catalog::accepted(&fields.event_type)
        .ok_or_else(|| ApiError::BadRequest(format!("unknown event type {}", fields.event_type)))?;
    let emission = Emission {
        event_type,
        data: fields.data,
        user_id: fields.user_id,
        project_id: fields.project_id,
    };
    let emitted = shared
        .emit(emission)
        .map_err(|err| ApiError::Internal(err.to_string()))?;
    Ok(created(json!({
        "eventId": emitted.event_id,
        "eventType": fields.event_type,
        "deliveryIds": emitted.delivery_ids,
    })))
}
