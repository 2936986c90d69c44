//! The event list and the queue's counts.

use std::sync::Arc;

use axum::extract::State;

use super::reply::{ok, uncached, ApiResult};
use crate::model::catalog;
use crate::shared::Shared;

/// `GET /api/webhooks/events`: the 57 types, their categories, the count.
pub(crate) async fn events() -> ApiResult {
    Ok(ok(catalog::listing()))
}

/// `GET /api/webhooks/queue/stats`: records waiting, in their attempt,
/// succeeded and failed (as the live database-backed queue counts them).
pub(crate) async fn queue_stats(State(shared): State<Arc<Shared>>) -> ApiResult {
    let counts = shared.store().queue_counts();
    Ok(uncached(ok(serde_json::json!({
        "queue": {
            "waiting": counts.waiting,
            "active": counts.active,
            "completed": counts.completed,
            "failed": counts.failed,
        }
    }))))
}
