//! The headers on every answer: a Content-Security-Policy that allows
//! nothing from any other origin (no inline script or style either: the
//! console's own CSS and JS are served from its path), no framing, no
//! sniffing, no referrer sent to another origin, no caching of pages that
//! show deliveries. (`no-referrer` would be stricter, but under it a
//! browser sends `Origin: null` with the console's own forms, and the
//! Origin check needs the real one.)

use http::header::{
    HeaderMap, HeaderValue, CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};

/// The policy: only the console's own scripts, styles and images (and
/// `data:` for the empty favicon), forms posted only to itself, never
/// framed.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";

/// Adds the security headers to `headers`; `cacheable` for the embedded
/// assets, which hold nothing private.
pub(crate) fn apply(headers: &mut HeaderMap, cacheable: bool) {
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(
        http::header::HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        http::header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    let cache = if cacheable {
        "private, max-age=3600"
    } else {
        "no-store"
    };
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
}
