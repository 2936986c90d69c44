//! The JSON API behind the pages, for scripts: the same filters in the
//! query string, the same redaction, the same actions. Values are as
//! stored (JSON strings escape what needs escaping); headers that are
//! credentials and dedupe keys that are signatures are redacted as on the
//! pages.

use costkatana_webhooks::inbox::{Entry, EntrySummary};
use http::StatusCode;
use serde_json::{json, Value};

use crate::actions;
use crate::dispatch::Ctx;
use crate::failure;
use crate::filter::Filter;
use crate::pages::bulk::describe;
use crate::redact::shown_key;
use crate::response::{self, Reply};
use crate::router::{Action, ApiRoute};
use crate::source::Activity;
use crate::views::DAY_MS;

/// A JSON error: `{"error": code, "message": text}`.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Reply {
    response::json(status, &json!({ "error": code, "message": message }))
}

pub(crate) async fn handle(ctx: &Ctx<'_>, route: ApiRoute) -> Reply {
    match route {
        ApiRoute::Overview => overview(ctx).await,
        ApiRoute::Deliveries => deliveries(ctx).await,
        ApiRoute::Delivery(id) => delivery(ctx, id).await,
        ApiRoute::Rejections => rejections(ctx),
        ApiRoute::Retry(id) => match ctx.shared.source.retry(id, actions::force(ctx)).await {
            Ok(was) => ok(json!({ "retried": id, "was": was.as_str() })),
            Err(refusal) => failure::refusal_json(&refusal, &format!("delivery {id}")),
        },
        ApiRoute::Purge(id) => match ctx.shared.source.purge(id).await {
            Ok(()) => ok(json!({ "purged": id })),
            Err(refusal) => failure::refusal_json(&refusal, &format!("delivery {id}")),
        },
        ApiRoute::Bulk(action) => bulk(ctx, action).await,
    }
}

fn ok(value: Value) -> Reply {
    response::json(StatusCode::OK, &value)
}

async fn overview(ctx: &Ctx<'_>) -> Reply {
    let source = &ctx.shared.source;
    let stats = match source.stats().await {
        Ok(stats) => stats,
        Err(err) => return failure::json(&err, "inbox"),
    };
    let activity = match source.activity(ctx.now_ms - DAY_MS, ctx.now_ms).await {
        Ok(activity) => activity,
        Err(err) => return failure::json(&err, "inbox"),
    };
    let jobs: Vec<Value> = ctx
        .shared
        .jobs
        .recent()
        .iter()
        .map(|job| {
            json!({
                "id": job.id,
                "scope": job.scope,
                "started_at_ms": job.started_ms,
                "expected": job.expected,
                "done": job.done(),
                "state": format!("{:?}", job.outcome()).to_lowercase(),
            })
        })
        .collect();
    ok(json!({
        "counts": {
            "pending": stats.pending,
            "running": stats.running,
            "done": stats.done,
            "dead": stats.dead,
        },
        "oldest_pending_at_ms": stats.oldest_pending_ms,
        "oldest_pending_age_ms": stats.oldest_pending_ms.map(|ms| ctx.now_ms - ms),
        "activity": activity_json(&activity),
        "bulk_retries": jobs,
    }))
}

fn activity_json(activity: &Activity) -> Value {
    json!({
        "start_ms": activity.start_ms,
        "step_ms": 60_000,
        "minutes": activity.minutes.iter().map(|m| json!({
            "handled": m.handled,
            "failed": m.failed,
            "dead": m.dead,
            "p50_ms": m.p50_ms,
            "p90_ms": m.p90_ms,
            "p99_ms": m.p99_ms,
        })).collect::<Vec<_>>(),
    })
}

fn summary_json(row: &EntrySummary) -> Value {
    json!({
        "id": row.id,
        "state": row.state.as_str(),
        "attempts": row.attempts,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "received_at_ms": row.received_at_ms,
        "run_after_ms": row.run_after_ms,
        "settled_at_ms": row.settled_at_ms,
        "last_error": row.last_error,
    })
}

async fn deliveries(ctx: &Ctx<'_>) -> Reply {
    let filter = match Filter::parse(ctx.query(), ctx.now_ms) {
        Ok(filter) => filter,
        Err(why) => return error(StatusCode::BAD_REQUEST, "bad_filter", &why),
    };
    let limit = crate::request::field(ctx.query().as_bytes(), "limit")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(ctx.shared.settings.page_size)
        .clamp(1, 500);
    let rows = match ctx.shared.source.list(&filter, limit).await {
        Ok(rows) => rows,
        Err(err) => return failure::json(&err, "inbox"),
    };
    let next = rows.last().filter(|_| rows.len() == limit).map(|last| {
        let next = Filter {
            before: Some(last.id),
            ..filter.clone()
        };
        ctx.shared.settings.href(&format!(
            "/api/deliveries?{}&limit={limit}",
            next.query_string()
        ))
    });
    ok(json!({
        "deliveries": rows.iter().map(summary_json).collect::<Vec<_>>(),
        "next": next,
    }))
}

fn entry_json(ctx: &Ctx<'_>, entry: &Entry) -> Value {
    let limit = ctx.shared.settings.body_limit;
    let shown = &entry.body[..entry.body.len().min(limit)];
    let mut value = summary_json(&entry.summary());
    value["dedupe_key"] = json!(shown_key(&entry.dedupe_key));
    value["headers"] = json!(entry.redacted_headers());
    value["body"] = json!({
        "bytes": entry.body.len(),
        "text": String::from_utf8_lossy(shown),
        "truncated": entry.body.len() > limit,
        "utf8": std::str::from_utf8(&entry.body).is_ok(),
    });
    value
}

async fn delivery(ctx: &Ctx<'_>, id: i64) -> Reply {
    let what = format!("delivery {id}");
    let entry = match ctx.shared.source.get(id).await {
        Ok(entry) => entry,
        Err(err) => return failure::json(&err, &what),
    };
    let attempts = match ctx.shared.source.attempts(id).await {
        Ok(attempts) => attempts,
        Err(err) => return failure::json(&err, &what),
    };
    let mut value = entry_json(ctx, &entry);
    value["attempts_history"] = json!(attempts);
    ok(value)
}

fn rejections(ctx: &Ctx<'_>) -> Reply {
    let Some(receiver) = &ctx.shared.receiver else {
        return ok(json!({ "receiver": false, "rejections": [] }));
    };
    let rejections: Vec<Value> = receiver
        .rejections()
        .iter()
        .map(|r| {
            json!({
                "at_ms": r.at_ms,
                "reason": r.reason,
                "status": r.status,
                "remote": r.remote.map(|ip| ip.to_string()),
                "scheme": r.scheme.map(|s| s.as_str()),
                "body_bytes": r.body_bytes,
                "diagnosis": r.diagnosis.map(|d| d.as_str()),
                "advice": r.diagnosis.map(|d| d.advice()),
            })
        })
        .collect();
    ok(json!({ "receiver": true, "rejections": rejections }))
}

async fn bulk(ctx: &Ctx<'_>, action: Action) -> Reply {
    let scope = match actions::bulk_filter(ctx, action) {
        Ok(scope) => scope,
        Err((status, why)) => return error(status, "bad_filter", &why),
    };
    match action {
        Action::Retry => match actions::start_bulk_retry(ctx, scope.clone()).await {
            Ok(job) => ok(json!({
                "job": job.id,
                "matching": job.expected,
                "scope": describe(&scope),
                "per_second": ctx.shared.settings.bulk_retry_per_second,
            })),
            Err(refusal) => failure::refusal_json(&refusal, "inbox"),
        },
        Action::Purge => match actions::bulk_purge(ctx, &scope).await {
            Ok(n) => ok(json!({ "purged": n, "scope": describe(&scope) })),
            Err(refusal) => failure::refusal_json(&refusal, "inbox"),
        },
    }
}
