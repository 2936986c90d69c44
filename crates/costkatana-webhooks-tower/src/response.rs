//! The core's framework-free answer as an `http` response.

use bytes::Bytes;
use costkatana_webhooks::Outcome;
use http::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use http_body_util::Full;

/// The HTTP answer for `outcome`, per the core's status table.
///
/// ```
/// use costkatana_webhooks::{ErrorKind, Outcome};
///
/// let response = costkatana_webhooks_tower::outcome_response(&Outcome::Failed(ErrorKind::InProgress.into()));
/// assert_eq!(response.status(), 503);
/// assert_eq!(response.headers()["retry-after"], "5");
/// assert_eq!(response.headers()["content-type"], "application/json");
/// ```
pub fn outcome_response(outcome: &Outcome) -> http::Response<Full<Bytes>> {
    let answer = outcome.response();
    let mut response = http::Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = http::StatusCode::from_u16(answer.status)
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(answer.content_type));
    if let Some(secs) = answer.retry_after_secs {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}
