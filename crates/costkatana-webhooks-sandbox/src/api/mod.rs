//! The management API of PROTOCOL.md §7 on axum, every route behind the
//! API key, plus the dashboard's two abilities under `/sandbox`.

mod auth;
mod body;
mod catalog;
mod dashboard;
mod deliveries;
mod reply;
mod webhooks;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::shared::Shared;
use reply::ApiError;

/// Every route. A path or method the live API does not serve gets its 404,
/// `Cannot <METHOD> <path>`, without asking for the key (as there).
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/webhooks/events", get(catalog::events))
        .route("/api/webhooks/queue/stats", get(catalog::queue_stats))
        .route("/api/webhooks", get(webhooks::list).post(webhooks::create))
        .route(
            "/api/webhooks/{id}",
            get(webhooks::get)
                .put(webhooks::update)
                .delete(webhooks::delete),
        )
        .route("/api/webhooks/{id}/test", post(webhooks::test))
        .route("/api/webhooks/{id}/stats", get(webhooks::stats))
        .route("/api/webhooks/{id}/deliveries", get(deliveries::list))
        .route(
            "/api/webhooks/deliveries/{delivery_id}",
            get(deliveries::get),
        )
        .route(
            "/api/webhooks/deliveries/{delivery_id}/replay",
            post(deliveries::replay),
        )
        .route("/sandbox/webhooks/{id}/secret", get(dashboard::secret))
        .route("/sandbox/events", post(dashboard::emit))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&shared),
            auth::require_key,
        ))
        .layer(DefaultBodyLimit::max(body::MAX_BODY))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .with_state(shared)
}

async fn not_found(request: Request) -> Response {
    let message = format!("Cannot {} {}", request.method(), request.uri().path());
    ApiError::NotFound(message.into()).into_response()
}
