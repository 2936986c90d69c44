//! Reading request headers without depending on a web framework.

/// A case-insensitive header lookup.
///
/// The core reads headers only through this trait, so http 1.x (axum,
/// tower, with the `http` feature), http 0.2 (actix-web) and plain lists all
/// plug in without conversion. `name` is always passed in lowercase; when a
/// header is repeated, the first value is returned.
///
/// Implemented for slices, arrays and vectors of `(name, value)` pairs, for
/// `http::HeaderMap` with the `http` feature, and by the adapter crates for
/// their framework's header maps.
///
/// ```
/// use costkatana_webhooks::Headers;
///
/// let headers = [("X-Webhook-Timestamp", "1777377600000")];
/// assert_eq!(headers.header("x-webhook-timestamp"), Some(&b"1777377600000"[..]));
/// assert_eq!(headers.header("x-webhook-signature"), None);
/// ```
pub trait Headers {
    /// The raw value of the first header called `name` (lowercase), if any.
    fn header(&self, name: &str) -> Option<&[u8]>;
}

impl<N: AsRef<str>, V: AsRef<[u8]>> Headers for [(N, V)] {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| n.as_ref().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>, const K: usize> Headers for [(N, V); K] {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.as_slice().header(name)
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> Headers for Vec<(N, V)> {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.as_slice().header(name)
    }
}

impl<H: Headers + ?Sized> Headers for &H {
    fn header(&self, name: &str) -> Option<&[u8]> {
        (**self).header(name)
    }
}

#[cfg(feature = "http")]
impl Headers for http::HeaderMap {
    fn header(&self, name: &str) -> Option<&[u8]> {
        use crate::scheme::names;
        use http::HeaderName;
        // The names read on every request, made once: looking up by `&str`
        // parses and checks the name each time.
        const KNOWN: [HeaderName; 4] = [
            HeaderName::from_static(names::WEBHOOK_SIGNATURE),
            HeaderName::from_static(names::WEBHOOK_TIMESTAMP),
            HeaderName::from_static(names::COSTKATANA_SIGNATURE),
            HeaderName::from_static(names::COSTKATANA_TIMESTAMP),
        ];
        /// Up to this many headers, comparing names beats hashing one (the
        /// map hashes a custom name byte by byte, a chain of multiplies).
        const SCAN_UP_TO: usize = 16;
        let known = match name {
            names::WEBHOOK_SIGNATURE => &KNOWN[0],
            names::WEBHOOK_TIMESTAMP => &KNOWN[1],
            names::COSTKATANA_SIGNATURE => &KNOWN[2],
            names::COSTKATANA_TIMESTAMP => &KNOWN[3],
            _ => return self.get(name).map(http::HeaderValue::as_bytes),
        };
        let value = if self.len() <= SCAN_UP_TO {
            // The first value of the name, as `get` gives.
            self.iter()
                .find_map(|(each, value)| (each == known).then_some(value))
        } else {
            self.get(known)
        };
        value.map(http::HeaderValue::as_bytes)
    }
}

/// Header names (lowercase) whose values are credentials or signatures.
const SENSITIVE: [&str; 6] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "x-webhook-signature",
    "x-costkatana-signature",
];

/// Whether the value of header `name` (any case) is a credential or a
/// signature, which the project never logs or shows: everything that prints
/// or stores headers for people to read asks this one list.
///
/// ```
/// use costkatana_webhooks::is_sensitive_header;
///
/// assert!(is_sensitive_header("Authorization"));
/// assert!(is_sensitive_header("x-webhook-signature"));
/// assert!(!is_sensitive_header("x-webhook-timestamp"));
/// ```
pub fn is_sensitive_header(name: &str) -> bool {
    SENSITIVE.iter().any(|s| s.eq_ignore_ascii_case(name))
}
