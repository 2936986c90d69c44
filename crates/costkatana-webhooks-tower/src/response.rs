//! The core's framework-free [`Answer`] as an `http` response.

use bytes::Bytes;
use costkatana_webhooks::Answer;
use http::header::{HeaderName, HeaderValue};
use http_body_util::Full;

/// The `http` response for `answer`: its status, every header it lists,
/// and its JSON body.
///
/// ```
/// use costkatana_webhooks::{ErrorKind, Outcome};
///
/// let answer = Outcome::Failed(ErrorKind::InProgress.into()).answer();
/// let response = costkatana_webhooks_tower::http_response(answer);
/// assert_eq!(response.status(), 503);
/// assert_eq!(response.headers()["retry-after"], "5");
/// assert_eq!(response.headers()["content-type"], "application/json");
/// ```
pub fn http_response(answer: Answer) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::new(Full::new(Bytes::new()));
    // Every status in the table is valid; 500 guards against a future one that is not.
    *response.status_mut() = http::StatusCode::from_u16(answer.status)
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in answer.headers() {
        if let Ok(value) = HeaderValue::try_from(value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
    *response.body_mut() = Full::new(Bytes::from(answer.body));
    response
}
