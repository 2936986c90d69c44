//! Reading an actix-web payload within [`BodyLimits`].

use actix_web::dev::Payload;
use actix_web::http::header::HeaderMap;
use bytes::{Bytes, BytesMut};
use costkatana_webhooks::{BodyLimits, Error, Headers};
use futures_util::StreamExt;

use crate::ActixHeaders;

/// Reads `payload` within `limits`: a declared `Content-Length` over the
/// size bound is refused before anything is read, a longer body on the
/// first chunk past the bound, and a body that does not arrive in time is
/// cut off. Runs inside the actix (Tokio) runtime, for the timer.
///
/// # Errors
///
/// `payload_too_large`, or `body_unreadable` when the payload errors or
/// does not arrive in time.
///
/// ```
/// use actix_web::dev::Payload;
/// use actix_web::http::header::HeaderMap;
/// use costkatana_webhooks::{BodyLimits, ErrorKind};
/// use costkatana_webhooks_actix::read_payload;
///
/// # actix_web::rt::System::new().block_on(async {
/// let mut payload = Payload::from(bytes::Bytes::from_static(b"12345"));
/// let limits = BodyLimits::default().max_bytes(4);
/// let err = read_payload(&limits, &HeaderMap::new(), &mut payload).await.unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::PayloadTooLarge);
/// # });
/// ```
pub async fn read_payload(
    limits: &BodyLimits,
    headers: &HeaderMap,
    payload: &mut Payload,
) -> Result<Bytes, Error> {
    limits.check_declared(&ActixHeaders(headers))?;
    let capacity = ActixHeaders(headers)
        .header("content-length")
        .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse().ok())
        .unwrap_or(0);
    match tokio::time::timeout(limits.timeout_value(), collect(payload, limits, capacity)).await {
        Ok(result) => result,
        Err(_) => Err(limits.timed_out()),
    }
}

/// Collects chunks until the end, stopping at the first one past `max`.
async fn collect(
    payload: &mut Payload,
    limits: &BodyLimits,
    capacity: usize,
) -> Result<Bytes, Error> {
    let mut body = BytesMut::with_capacity(capacity);
    while let Some(chunk) = payload.next().await {
        // The payload error says what went wrong on the wire, never the body.
        let chunk = chunk.map_err(Error::body_failed)?;
        limits.check_received(body.len() + chunk.len())?;
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
