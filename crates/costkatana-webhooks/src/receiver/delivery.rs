//! What a handler learns about the delivery besides the event.

use crate::{Headers, Scheme, Verified};

/// The facts of one verified delivery, handed to every handler.
///
/// Holds the [`Verified`] request (scheme, timestamp, matched secret, raw
/// body), the dedupe key, and the request headers the receiver was told to
/// capture (by default `Authorization`, `X-CostKatana-Event` and
/// `X-CostKatana-Delivery-Id`; see
/// [`ReceiverBuilder::capture_header`](super::ReceiverBuilder::capture_header)).
///
/// `Debug` shows the verified request's scheme and timestamp and the
/// names of the captured headers; never their values (an `Authorization`
/// header is a credential), the body, the signature or the dedupe key
/// (which is the signature for bodies without an event id).
///
/// ```
/// use costkatana_webhooks::{Delivery, Event, HandlerError, HandlerResult};
///
/// async fn handler(event: Event, delivery: Delivery) -> HandlerResult {
///     if delivery.header("authorization") != Some("Bearer expected-token") {
///         return Err(HandlerError::refuse("unexpected Authorization header"));
///     }
///     println!("{} signed {} ms after the epoch under {}", event.event_type,
///         delivery.verified().timestamp_ms(), delivery.verified().scheme());
///     Ok(())
/// }
/// ```
#[derive(Clone)]
pub struct Delivery {
    verified: Verified,
    dedupe_key: String,
    headers: Vec<(&'static str, String)>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let captured: Vec<&str> = self.headers.iter().map(|(name, _)| *name).collect();
        f.debug_struct("Delivery")
            .field("verified", &self.verified)
            .field("captured_headers", &captured)
            .finish()
    }
}

impl Delivery {
    pub(crate) fn new(
        verified: Verified,
        dedupe_key: String,
        captured: &[&'static str],
        request: &impl Headers,
    ) -> Self {
        let headers = captured
            .iter()
            .filter_map(|&name| {
                let value = std::str::from_utf8(request.header(name)?).ok()?;
                Some((name, value.to_owned()))
            })
            .collect();
        Delivery {
            verified,
            dedupe_key,
            headers,
        }
    }

    /// The verified request: scheme, timestamp, matched secret, raw body.
    pub fn verified(&self) -> &Verified {
        &self.verified
    }

    /// The scheme the delivery was signed with.
    pub fn scheme(&self) -> Scheme {
        self.verified.scheme()
    }

    /// The namespaced key this delivery was deduplicated on.
    pub fn dedupe_key(&self) -> &str {
        &self.dedupe_key
    }

    /// A captured request header (case-insensitive name), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
