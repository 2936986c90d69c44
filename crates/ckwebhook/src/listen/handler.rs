//! The request handler: the library's receiver, and a line per request.

use std::cell::RefCell;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use costkatana_webhooks::{Delivery, HandlerResult, Payload, Receiver, Shared};
use costkatana_webhooks_tower::{http_response, HttpRequestBody};

use super::print::{describe, print_outcome, Style};

tokio::task_local! {
    /// What the handler saw of the request being answered, for its line.
    static SEEN: RefCell<Option<String>>;
}

/// What every request is answered with.
pub(crate) struct Listening {
    pub(crate) receiver: Receiver,
    pub(crate) style: Style,
}

/// Runs the receiver (verify, dedupe, handle, answer) and prints its outcome.
pub(crate) async fn receive(State(listening): State<Arc<Listening>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let run = async {
        let outcome = listening
            .receiver
            .receive(
                parts.method.as_str(),
                &parts.headers,
                HttpRequestBody::new(body),
            )
            .await;
        (outcome, SEEN.with(RefCell::take))
    };
    let (outcome, seen) = SEEN.scope(RefCell::new(None), run).await;
    print_outcome(
        listening.style,
        parts.method.as_str(),
        parts.uri.path(),
        &outcome,
        seen.as_deref(),
    );
    http_response(outcome.answer()).into_response()
}

/// The receiver's only handler: describing the delivery is the handling
/// here, and it cannot fail.
pub(crate) async fn note(
    Shared(style): Shared<Style>,
    payload: Payload,
    delivery: Delivery,
) -> HandlerResult {
    let text = describe(style, &payload, delivery.scheme());
    // Outside a request's scope (never, here) the description is dropped.
    let _ = SEEN.try_with(|seen| *seen.borrow_mut() = Some(text));
    Ok(())
}
