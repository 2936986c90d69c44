//! An inbox that said no, as a page or as JSON. Errors that may name a
//! server or a file are logged, not shown: a page says only what kind of
//! failure it was.

use costkatana_webhooks_inbox::{InboxError, InboxErrorKind};
use http::StatusCode;

use crate::api;
use crate::dispatch::Ctx;
use crate::response::Reply;
use crate::source::Refusal;

/// The status and the words for an inbox error.
fn explain(err: &InboxError, what: &str) -> (StatusCode, &'static str, String) {
    match err.kind() {
        InboxErrorKind::NotFound => (
            StatusCode::NOT_FOUND,
            "not_found",
            format!("There is no {what} (it may have been purged)."),
        ),
        InboxErrorKind::Conflict => (
            StatusCode::CONFLICT,
            "conflict",
            "A worker is running it: try again once it is done or dead.".to_owned(),
        ),
        InboxErrorKind::Invalid => (
            StatusCode::BAD_REQUEST,
            "invalid",
            "The inbox refused the request as asked.".to_owned(),
        ),
        _ => {
            tracing::warn!(error = %err, "console: the inbox could not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "The inbox cannot answer right now; the server's log says why.".to_owned(),
            )
        }
    }
}

/// `err` as an HTML page about `what` (`delivery 42`).
pub(crate) fn page(ctx: &Ctx<'_>, err: &InboxError, what: &str) -> Reply {
    let (status, _, text) = explain(err, what);
    let title = status.canonical_reason().unwrap_or("Error");
    ctx.problem(status, title, &text)
}

/// `err` as the API's JSON error.
pub(crate) fn json(err: &InboxError, what: &str) -> Reply {
    let (status, code, text) = explain(err, what);
    api::error(status, code, &text)
}

/// A refused action as a page.
pub(crate) fn refusal_page(ctx: &Ctx<'_>, refusal: &Refusal, what: &str) -> Reply {
    match refusal {
        Refusal::Inbox(err) => page(ctx, err, what),
        Refusal::Console(text) => ctx.problem(StatusCode::CONFLICT, "Not done", text),
    }
}

/// A refused action as JSON.
pub(crate) fn refusal_json(refusal: &Refusal, what: &str) -> Reply {
    match refusal {
        Refusal::Inbox(err) => json(err, what),
        Refusal::Console(text) => api::error(StatusCode::CONFLICT, "refused", text),
    }
}
