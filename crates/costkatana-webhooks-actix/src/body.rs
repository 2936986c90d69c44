//! An actix-web payload as the core's [`RequestBody`].

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::dev::Payload;
use bytes::Bytes;
use costkatana_webhooks::{Error, RequestBody};
use futures_util::Stream;

/// Reads an actix-web [`Payload`] chunk by chunk for the core, which bounds
/// it in size and time. A payload error becomes `body_unreadable` (503,
/// the sender retries), with the error kept as its source.
///
/// ```
/// use actix_web::dev::Payload;
/// use actix_web::http::header::HeaderMap;
/// use costkatana_webhooks::Verifier;
/// use costkatana_webhooks_actix::{ActixHeaders, ActixRequestBody};
///
/// # actix_web::rt::System::new().block_on(async {
/// let verifier = Verifier::builder().secret("s3cret").build()?;
/// let body = ActixRequestBody(Payload::from(bytes::Bytes::from_static(b"{}")));
/// let err = verifier.verify_request("POST", &ActixHeaders(&HeaderMap::new()), body).await.unwrap_err();
/// assert_eq!(err.code(), "missing_signature");
/// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
/// ```
pub struct ActixRequestBody(pub Payload);

impl std::fmt::Debug for ActixRequestBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ActixRequestBody")
    }
}

impl RequestBody for ActixRequestBody {
    fn poll_chunk(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Error>>> {
        Pin::new(&mut self.0)
            .poll_next(cx)
            .map(|chunk| chunk.map(|chunk| chunk.map_err(Error::body_failed)))
    }
}
