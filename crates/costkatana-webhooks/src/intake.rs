//! The adapter seam: how a framework's request body reaches the core.
//!
//! An adapter implements [`RequestBody`] for its body type and calls
//! [`Verifier::verify_request`](crate::Verifier::verify_request) (verify
//! only) or [`Receiver::receive`](crate::Receiver::receive) (the whole
//! pipeline), then copies the [`Answer`](crate::Answer) into its response
//! type. Everything between (method, signature headers before the body,
//! the size and time bounds, verification) happens here, once.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};

use crate::body_limits::BodyLimits;
use crate::Error;

/// A request body, read chunk by chunk.
///
/// Implemented for complete bodies (`Bytes`, `Vec<u8>`, `String`,
/// `&'static [u8]`, `&'static str`), which yield themselves in one chunk,
/// and by each adapter for its framework's streaming body. A failing
/// stream yields [`Error::body_failed`]; a limit that fired outside this
/// crate (axum's `DefaultBodyLimit`) yields [`Error::body_too_large_for`].
///
/// ```
/// use std::pin::Pin;
/// use std::task::{Context, Poll};
/// use bytes::Bytes;
/// use costkatana_webhooks::{Error, RequestBody};
///
/// /// A body that arrives in fixed chunks.
/// struct Chunks(Vec<Bytes>);
///
/// impl RequestBody for Chunks {
///     fn poll_chunk(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Bytes, Error>>> {
///         Poll::Ready(if self.0.is_empty() { None } else { Some(Ok(self.0.remove(0))) })
///     }
/// }
/// ```
pub trait RequestBody {
    /// The next chunk of the body; `None` once it has all been read.
    fn poll_chunk(self: Pin<&mut Self>, cx: &mut Context<'_>)
        -> Poll<Option<Result<Bytes, Error>>>;
}

macro_rules! complete_bodies {
    ($($ty:ty),*) => {$(
        impl RequestBody for $ty {
            fn poll_chunk(
                mut self: Pin<&mut Self>,
                _: &mut Context<'_>,
            ) -> Poll<Option<Result<Bytes, Error>>> {
                let chunk = Bytes::from(std::mem::take(&mut *self));
                Poll::Ready((!chunk.is_empty()).then_some(Ok(chunk)))
            }
        }
    )*};
}

complete_bodies!(Bytes, Vec<u8>, String, &'static [u8], &'static str);

/// Reads `body` within `limits`, pre-allocating for `declared` bytes.
///
/// A body longer than the size bound is refused as soon as it passes it.
/// The time bound starts when the body first makes the reader wait, so a
/// complete body needs no timer (and no Tokio runtime).
pub(crate) async fn read_body(
    limits: BodyLimits,
    declared: Option<u64>,
    body: impl RequestBody,
) -> Result<Bytes, Error> {
    let mut body = pin!(body);
    let mut deadline = pin!(None::<tokio::time::Sleep>);
    let mut collected = Collected::default();
    poll_fn(|cx| loop {
        match body.as_mut().poll_chunk(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if let Err(err) = collected.push(chunk, &limits, declared) {
                    return Poll::Ready(Err(err));
                }
            }
            Poll::Ready(Some(Err(err))) => return Poll::Ready(Err(err)),
            Poll::Ready(None) => return Poll::Ready(Ok(std::mem::take(&mut collected).finish())),
            Poll::Pending => {
                if deadline.is_none() {
                    deadline.set(Some(tokio::time::sleep(limits.timeout)));
                }
                if let Some(sleep) = deadline.as_mut().as_pin_mut() {
                    if sleep.poll(cx).is_ready() {
                        return Poll::Ready(Err(Error::body_timed_out(limits.timeout)));
                    }
                }
                return Poll::Pending;
            }
        }
    })
    .await
}

/// The chunks so far: the first kept as is (most bodies are one chunk, and
/// then nothing is copied), later ones appended to a buffer.
#[derive(Default)]
struct Collected {
    first: Option<Bytes>,
    rest: BytesMut,
}

impl Collected {
    fn len(&self) -> usize {
        self.first.as_ref().map_or(0, Bytes::len) + self.rest.len()
    }

    fn push(
        &mut self,
        chunk: Bytes,
        limits: &BodyLimits,
        declared: Option<u64>,
    ) -> Result<(), Error> {
        limits.check_received(self.len().saturating_add(chunk.len()))?;
        if chunk.is_empty() {
            return Ok(());
        }
        match self.first.take() {
            None if self.rest.is_empty() => self.first = Some(chunk),
            first => {
                if let Some(first) = first {
                    // The declared length is trusted only up to the bound.
                    let expected = declared
                        .and_then(|len| usize::try_from(len).ok())
                        .unwrap_or(0)
                        .min(limits.max_bytes);
                    self.rest.reserve(expected.max(first.len() + chunk.len()));
                    self.rest.extend_from_slice(&first);
                }
                self.rest.extend_from_slice(&chunk);
            }
        }
        Ok(())
    }

    fn finish(self) -> Bytes {
        match self.first {
            Some(first) => first,
            None => self.rest.freeze(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use std::time::Duration;

    struct Chunks(Vec<Result<Bytes, Error>>);

    impl RequestBody for Chunks {
        fn poll_chunk(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Bytes, Error>>> {
            Poll::Ready((!self.0.is_empty()).then(|| self.0.remove(0)))
        }
    }

    /// Polls once: complete bodies never wait, so no runtime is needed.
    fn now<T>(future: impl Future<Output = T>) -> T {
        match pin!(future).poll(&mut Context::from_waker(std::task::Waker::noop())) {
            Poll::Ready(value) => value,
            Poll::Pending => panic!("a complete body never waits"),
        }
    }

    fn limits(max_bytes: usize) -> BodyLimits {
        BodyLimits {
            max_bytes,
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn chunks_are_joined_in_order() {
        let parts = ["ab", "", "cde", "f"].map(|p| Ok(Bytes::from(p))).to_vec();
        let body = now(read_body(limits(6), Some(6), Chunks(parts))).unwrap();
        assert_eq!(body, "abcdef");
        assert_eq!(now(read_body(limits(6), None, Bytes::new())).unwrap(), "");
    }

    #[test]
    fn one_chunk_is_not_copied() {
        let chunk = Bytes::from(vec![7u8; 100]);
        let body = now(read_body(limits(100), None, chunk.clone())).unwrap();
        assert_eq!(body.as_ptr(), chunk.as_ptr());
    }

    #[test]
    fn a_body_past_the_bound_stops_there() {
        let parts = vec![
            Ok(Bytes::from("abcd")),
            Ok(Bytes::from("ef")),
            Err(Error::body_failed("never read")),
        ];
        let err = now(read_body(limits(5), None, Chunks(parts))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PayloadTooLarge);
        assert!(err.message().contains("5 bytes"), "{}", err.message());
        let exact = now(read_body(limits(4), None, "abcd")).unwrap();
        assert_eq!(exact, "abcd");
    }

    #[test]
    fn a_failing_body_reports_its_error() {
        let parts = vec![
            Ok(Bytes::from("ab")),
            Err(Error::body_failed("connection reset")),
        ];
        let err = now(read_body(limits(100), None, Chunks(parts))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BodyUnreadable);
        assert!(err.message().ends_with("connection reset"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_times_out() {
        struct Stalls;
        impl RequestBody for Stalls {
            fn poll_chunk(
                self: Pin<&mut Self>,
                _: &mut Context<'_>,
            ) -> Poll<Option<Result<Bytes, Error>>> {
                Poll::Pending
            }
        }
        let err = read_body(limits(100), None, Stalls).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BodyUnreadable);
        assert_eq!(
            err.message(),
            "the request body did not arrive within 1000 ms"
        );
        assert_eq!(err.status(), 503);
    }
}
