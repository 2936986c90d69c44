//! The request handler: method, bounded body, verify, dedupe, answer.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use costkatana_webhooks::dedupe::{Claim, DedupeStore, MemoryStore};
use costkatana_webhooks::{BodyLimits, Error, ErrorKind, Outcome, Verifier};
use costkatana_webhooks_tower::read_body;

use super::print::{print_outcome, Style};

/// How long a claim lasts if handling never settles it.
const LEASE: Duration = Duration::from_secs(60);
/// How long a completed event is remembered as done, at least (never less
/// than the past tolerance, or a late retry would slip past both checks).
pub(super) const MIN_DEDUPE_TTL: Duration = Duration::from_secs(24 * 3600);

pub(super) struct State {
    pub(super) verifier: Verifier,
    pub(super) store: MemoryStore,
    pub(super) style: Style,
    pub(super) dedupe_ttl: Duration,
}

pub(super) async fn receive(
    axum::extract::State(state): axum::extract::State<Arc<State>>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let (outcome, event) = match handle(&state, &parts, body).await {
        Ok((outcome, event)) => (outcome, event),
        Err(err) => (Outcome::Failed(err), None),
    };
    print_outcome(&state.style, parts.uri.path(), &outcome, event.as_ref());
    let answer = outcome.response();
    let mut response = (
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, answer.content_type)],
        answer.body,
    )
        .into_response();
    if let Some(secs) = answer.retry_after_secs {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

async fn handle(
    state: &State,
    parts: &axum::http::request::Parts,
    body: Body,
) -> Result<(Outcome, Option<costkatana_webhooks::Verified>), Error> {
    if parts.method != Method::POST {
        return Err(ErrorKind::MethodNotAllowed.into());
    }
    let body = read_body(&BodyLimits::default(), &parts.headers, body).await?;
    let verified = state.verifier.verify(&parts.headers, body)?;
    let event_id = verified.payload().event_id().map(str::to_owned);
    // The event id when there is one, else the signature (stable across retries).
    let key = match &event_id {
        Some(id) => format!("event:{id}"),
        None => format!("signature:{}", verified.signature_hex()),
    };
    let outcome = match state.store.claim(&key, LEASE).await? {
        Claim::Fresh(token) => {
            // Printing is the handling here: it cannot fail, so complete.
            state.store.complete(&key, token, state.dedupe_ttl).await?;
            Outcome::Processed { event_id }
        }
        Claim::Done => Outcome::Duplicate { event_id },
        Claim::InFlight => Outcome::Failed(ErrorKind::InProgress.into()),
    };
    Ok((outcome, Some(verified)))
}
