//! Reading an http 1.x body within [`BodyLimits`].

use bytes::Bytes;
use costkatana_webhooks::{BodyLimits, Error};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};

/// Reads `body` within `limits`: a declared `Content-Length` over the size
/// bound is refused before anything is read, a longer body as soon as the
/// bound is passed, and a body that does not arrive in time is cut off.
///
/// # Errors
///
/// `payload_too_large`, or `body_unreadable` when the body errors (the
/// error is reported, never swallowed) or is too slow.
///
/// ```
/// use costkatana_webhooks::{BodyLimits, ErrorKind};
/// use costkatana_webhooks_tower::read_body;
/// use http_body_util::Full;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let limits = BodyLimits::default().max_bytes(4);
/// let body = Full::new(bytes::Bytes::from_static(b"12345"));
/// let err = read_body(&limits, &http::HeaderMap::new(), body).await.unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::PayloadTooLarge);
/// # });
/// ```
pub async fn read_body<B>(
    limits: &BodyLimits,
    headers: &http::HeaderMap,
    body: B,
) -> Result<Bytes, Error>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    limits.check_declared(headers)?;
    let collect = Limited::new(body, limits.max_bytes_value()).collect();
    match tokio::time::timeout(limits.timeout_value(), collect).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(err)) if err.is::<LengthLimitError>() => {
            limits.check_received(usize::MAX).map(|()| Bytes::new())
        }
        Ok(Err(err)) => Err(Error::body_failed(err)),
        Err(_) => Err(limits.timed_out()),
    }
}
