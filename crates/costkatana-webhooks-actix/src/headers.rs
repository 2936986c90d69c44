//! The core's header lookup over actix-web's (http 0.2) header map.

use actix_web::http::header::HeaderMap;
use costkatana_webhooks::Headers;

/// actix-web's [`HeaderMap`] seen through the core's [`Headers`] lookup.
///
/// actix-web 4 uses its own header map (on http 0.2), and the orphan rule
/// forbids implementing the core trait for it directly, so this newtype
/// borrows it; nothing is copied or converted.
///
/// ```
/// use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
/// use costkatana_webhooks::Headers;
/// use costkatana_webhooks_actix::ActixHeaders;
///
/// let mut map = HeaderMap::new();
/// map.insert(
///     HeaderName::from_static("x-webhook-timestamp"),
///     HeaderValue::from_static("1777377600000"),
/// );
/// let headers = ActixHeaders(&map);
/// assert_eq!(headers.header("x-webhook-timestamp"), Some(&b"1777377600000"[..]));
/// assert_eq!(headers.header("x-webhook-signature"), None);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ActixHeaders<'a>(pub &'a HeaderMap);

impl Headers for ActixHeaders<'_> {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.0.get(name).map(|value| value.as_bytes())
    }
}
