//! The actions behind the buttons: retry and purge one delivery, retry
//! and purge all on a filter. The pages and the API share them.

use std::sync::Arc;

use costkatana_webhooks::inbox::EntryState;
use http::StatusCode;

use crate::dispatch::Ctx;
use crate::failure;
use crate::filter::Filter;
use crate::jobs::{Job, Outcome};
use crate::pages::bulk;
use crate::request;
use crate::response::{self, Reply};
use crate::router::Action;
use crate::source::Refusal;
use crate::views;

/// Whether the form (or the API call's query) confirms running a done
/// delivery's handler again.
pub(crate) fn force(ctx: &Ctx<'_>) -> bool {
    let from_form = request::field(&ctx.form, "force");
    let from_query = request::field(ctx.query().as_bytes(), "force");
    from_form
        .or(from_query)
        .is_some_and(|v| v == "true" || v == "on")
}

pub(crate) async fn retry_page(ctx: &Ctx<'_>, id: i64) -> Reply {
    match ctx.shared.source.retry(id, force(ctx)).await {
        Ok(was) => {
            tracing::info!(id, was = %was, "console: delivery queued again");
            response::redirect(
                &ctx.shared
                    .settings
                    .href(&format!("/deliveries/{id}?done=retried")),
            )
        }
        Err(Refusal::Console(why)) => views::delivery(ctx, id, Some(&why)).await,
        Err(refusal) => failure::refusal_page(ctx, &refusal, &format!("delivery {id}")),
    }
}

pub(crate) async fn purge_page(ctx: &Ctx<'_>, id: i64) -> Reply {
    match ctx.shared.source.purge(id).await {
        Ok(()) => {
            tracing::info!(id, "console: delivery purged");
            response::redirect(&ctx.shared.settings.href("/deliveries"))
        }
        Err(Refusal::Console(why)) => views::delivery(ctx, id, Some(&why)).await,
        Err(refusal) => failure::refusal_page(ctx, &refusal, &format!("delivery {id}")),
    }
}

/// The filter a bulk action was confirmed for (the form's hidden fields,
/// or an API call's query string), scoped to what the action takes.
pub(crate) fn bulk_filter(ctx: &Ctx<'_>, action: Action) -> Result<Filter, (StatusCode, String)> {
    let fields = if ctx.form.is_empty() {
        ctx.query().to_owned()
    } else {
        String::from_utf8_lossy(&ctx.form).into_owned()
    };
    let filter =
        Filter::parse(&fields, ctx.now_ms).map_err(|why| (StatusCode::BAD_REQUEST, why))?;
    views::bulk_scope(action)
        .scope(&filter)
        .map_err(|why| (StatusCode::BAD_REQUEST, why))
}

/// Starts a bulk retry of `scope` in the background.
pub(crate) async fn start_bulk_retry(ctx: &Ctx<'_>, scope: Filter) -> Result<Arc<Job>, Refusal> {
    if scope.state == Some(EntryState::Done) && !force(ctx) {
        return Err(Refusal::Console(
            "these deliveries were handled already: confirm that their handlers should run again"
                .to_owned(),
        ));
    }
    let source = ctx.shared.source.clone();
    let count = source.count(&scope).await?;
    let job = ctx
        .shared
        .jobs
        .start(bulk::describe(&scope), count, ctx.now_ms);
    let rate = ctx.shared.settings.bulk_retry_per_second;
    let running = Arc::clone(&job);
    tracing::info!(job = job.id, scope = %job.scope, "console: bulk retry started");
    tokio::spawn(async move {
        let result = source
            .retry_matching(&scope, rate, |n| running.set_done(n))
            .await;
        match result {
            Ok(n) => {
                running.set_done(n);
                running.finish(Outcome::Finished);
                tracing::info!(
                    job = running.id,
                    retried = n,
                    "console: bulk retry finished"
                );
            }
            Err(err) => {
                running.finish(Outcome::Failed);
                tracing::warn!(job = running.id, error = %err, "console: bulk retry stopped");
            }
        }
    });
    Ok(job)
}

/// Purges `scope`; how many were deleted.
pub(crate) async fn bulk_purge(ctx: &Ctx<'_>, scope: &Filter) -> Result<u64, Refusal> {
    let n = ctx.shared.source.purge_matching(scope).await?;
    tracing::info!(purged = n, scope = %bulk::describe(scope), "console: bulk purge");
    Ok(n)
}

pub(crate) async fn bulk_page(ctx: &Ctx<'_>, action: Action) -> Reply {
    let scope = match bulk_filter(ctx, action) {
        Ok(scope) => scope,
        Err((status, why)) => return ctx.problem(status, "Not possible", &why),
    };
    let view = ctx.view();
    match action {
        Action::Retry => match start_bulk_retry(ctx, scope.clone()).await {
            Ok(job) => response::html(
                StatusCode::OK,
                bulk::done(&view, action, &scope, job.expected),
            ),
            Err(refusal) => failure::refusal_page(ctx, &refusal, "inbox"),
        },
        Action::Purge => match bulk_purge(ctx, &scope).await {
            Ok(n) => response::html(StatusCode::OK, bulk::done(&view, action, &scope, n)),
            Err(refusal) => failure::refusal_page(ctx, &refusal, "inbox"),
        },
    }
}
