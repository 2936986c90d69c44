//! The pages that read: overview, list, delivery, bulk confirmation,
//! rejections.

use http::StatusCode;

use crate::dispatch::Ctx;
use crate::failure;
use crate::filter::Filter;
use crate::pages::{bulk, deliveries, delivery, overview, rejections};
use crate::response::{self, Reply};
use crate::router::Action;
use crate::source::Bulk;

/// The window the overview charts.
pub(crate) const DAY_MS: i64 = 86_400_000;

pub(crate) async fn overview(ctx: &Ctx<'_>) -> Reply {
    let source = &ctx.shared.source;
    let stats = match source.stats().await {
        Ok(stats) => stats,
        Err(err) => return failure::page(ctx, &err, "inbox"),
    };
    let activity = match source.activity(ctx.now_ms - DAY_MS, ctx.now_ms).await {
        Ok(activity) => activity,
        Err(err) => return failure::page(ctx, &err, "inbox"),
    };
    let jobs = ctx.shared.jobs.recent();
    let page = overview::render(
        &ctx.view(),
        &overview::Overview {
            stats: &stats,
            activity: &activity,
            jobs: &jobs,
            rejections: ctx.shared.receiver.as_ref().map(|r| r.rejections().len()),
        },
    );
    response::html(StatusCode::OK, page)
}

/// The filter in the query string, or a 400 page saying what is wrong.
fn filter(ctx: &Ctx<'_>, query: &str) -> Result<Filter, Box<Reply>> {
    Filter::parse(query, ctx.now_ms)
        .map_err(|why| Box::new(ctx.problem(StatusCode::BAD_REQUEST, "Bad filter", &why)))
}

pub(crate) async fn deliveries(ctx: &Ctx<'_>) -> Reply {
    let filter = match filter(ctx, ctx.query()) {
        Ok(filter) => filter,
        Err(reply) => return *reply,
    };
    let page_size = ctx.shared.settings.page_size;
    match ctx.shared.source.list(&filter, page_size).await {
        Ok(rows) => response::html(
            StatusCode::OK,
            deliveries::render(&ctx.view(), &filter, &rows, page_size),
        ),
        Err(err) => failure::page(ctx, &err, "inbox"),
    }
}

/// A delivery's page; `refusal` says why an action on it was not taken.
pub(crate) async fn delivery(ctx: &Ctx<'_>, id: i64, refusal: Option<&str>) -> Reply {
    let what = format!("delivery {id}");
    let entry = match ctx.shared.source.get(id).await {
        Ok(entry) => entry,
        Err(err) => return failure::page(ctx, &err, &what),
    };
    let attempts = match ctx.shared.source.attempts(id).await {
        Ok(attempts) => attempts,
        Err(err) => return failure::page(ctx, &err, &what),
    };
    let status = if refusal.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    let page = delivery::render(
        &ctx.view(),
        &entry,
        &attempts,
        delivery::notice(ctx.query()),
        refusal,
    );
    response::html(status, page)
}

pub(crate) async fn bulk_confirm(ctx: &Ctx<'_>, action: Action) -> Reply {
    let filter = match filter(ctx, ctx.query()) {
        Ok(filter) => filter,
        Err(reply) => return *reply,
    };
    let scope = match bulk_scope(action).scope(&filter) {
        Ok(scope) => scope,
        Err(why) => return ctx.problem(StatusCode::BAD_REQUEST, "Not possible", &why),
    };
    match ctx.shared.source.count(&scope).await {
        Ok(count) => response::html(
            StatusCode::OK,
            bulk::confirm(&ctx.view(), action, &scope, count),
        ),
        Err(err) => failure::page(ctx, &err, "inbox"),
    }
}

pub(crate) fn bulk_scope(action: Action) -> Bulk {
    match action {
        Action::Retry => Bulk::Retry,
        Action::Purge => Bulk::Purge,
    }
}

pub(crate) fn rejections(ctx: &Ctx<'_>) -> Reply {
    let kept = ctx.shared.receiver.as_ref().map(|r| r.rejections());
    response::html(
        StatusCode::OK,
        rejections::render(&ctx.view(), kept.as_deref()),
    )
}
