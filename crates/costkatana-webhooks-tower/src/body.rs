//! An http 1.x body as the core's [`RequestBody`].

use std::error::Error as StdError;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use costkatana_webhooks::{Error, RequestBody};
use http_body::Body;
use http_body_util::LengthLimitError;

pin_project_lite::pin_project! {
    /// Reads any [`http_body::Body`] (hyper's `Incoming`, axum's `Body`,
    /// `Full`) chunk by chunk for the core, which bounds it in size and
    /// time. Trailers are skipped.
    ///
    /// A body error becomes `body_unreadable` (503, the sender retries),
    /// with the error kept as its source; a length limit that fired in
    /// another layer (axum's `DefaultBodyLimit`, tower-http's
    /// `RequestBodyLimit`) becomes `payload_too_large` (413).
    ///
    /// ```
    /// use costkatana_webhooks::Verifier;
    /// use costkatana_webhooks_tower::HttpRequestBody;
    /// use http_body_util::Full;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let verifier = Verifier::builder().secret("s3cret").build()?;
    /// let body = HttpRequestBody::new(Full::new(bytes::Bytes::from_static(b"{}")));
    /// let err = verifier.verify_request("POST", &http::HeaderMap::new(), body).await.unwrap_err();
    /// assert_eq!(err.code(), "missing_signature");
    /// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
    /// ```
    #[derive(Debug)]
    pub struct HttpRequestBody<B> {
        #[pin]
        body: B,
    }
}

impl<B> HttpRequestBody<B> {
    /// Wraps `body`.
    pub fn new(body: B) -> Self {
        HttpRequestBody { body }
    }
}

impl<B> RequestBody for HttpRequestBody<B>
where
    B: Body,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    fn poll_chunk(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Error>>> {
        let mut body = self.project().body;
        loop {
            return match body.as_mut().poll_frame(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(classify(err.into())))),
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(mut data) => Poll::Ready(Some(Ok(data.copy_to_bytes(data.remaining())))),
                    // Trailers carry nothing that is signed.
                    Err(_trailers) => continue,
                },
            };
        }
    }
}

/// A limit another layer put on the body is a 413, like ours; any other
/// failure is a body that could not be read.
fn classify(err: Box<dyn StdError + Send + Sync>) -> Error {
    let mut cause: Option<&(dyn StdError + 'static)> = Some(&*err);
    while let Some(current) = cause {
        if current.is::<LengthLimitError>() {
            return Error::body_too_large_for(
                "a limit set by another layer (axum's DefaultBodyLimit or tower-http's \
                 RequestBodyLimit)",
            );
        }
        cause = current.source();
    }
    Error::body_failed(err)
}
