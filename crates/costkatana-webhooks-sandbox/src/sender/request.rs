//! What the sender sends: a URL it may POST to, and a request signed once.

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;
use costkatana_webhooks::signing::{sign, SENDER_HEADERS};
use costkatana_webhooks::Scheme;
use http::header::{HeaderMap, HeaderName, HeaderValue};

/// Where deliveries go: an absolute `http` or `https` URL.
///
/// Printed in its normal form (`http://127.0.0.1:3000` gains its `/`).
///
/// ```
/// use costkatana_webhooks_sandbox::sender::{Endpoint, EndpointError};
///
/// let endpoint = Endpoint::parse("http://127.0.0.1:3000")?;
/// assert_eq!(endpoint.to_string(), "http://127.0.0.1:3000/");
/// assert!(matches!(Endpoint::parse("ftp://example.com/"), Err(EndpointError::NotHttp { .. })));
/// # Ok::<(), EndpointError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint(reqwest::Url);

impl Endpoint {
    /// Parses `text` as an absolute `http` or `https` URL.
    ///
    /// # Errors
    ///
    /// [`EndpointError::Invalid`] when `text` is not a URL,
    /// [`EndpointError::NotHttp`] when its scheme is another one.
    ///
    /// ```
    /// use costkatana_webhooks_sandbox::sender::{Endpoint, EndpointError};
    ///
    /// let err = Endpoint::parse("not a url").unwrap_err();
    /// assert!(matches!(err, EndpointError::Invalid { .. }), "{err}");
    /// ```
    pub fn parse(text: &str) -> Result<Endpoint, EndpointError> {
        let url = reqwest::Url::parse(text).map_err(|err| EndpointError::Invalid {
            text: text.to_owned(),
            reason: err.to_string(),
        })?;
        match url.scheme() {
            "http" | "https" => Ok(Endpoint(url)),
            other => Err(EndpointError::NotHttp {
                text: text.to_owned(),
                scheme: other.to_owned(),
            }),
        }
    }

    /// The URL, in its normal form.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::sender::Endpoint;
    /// let endpoint = Endpoint::parse("HTTP://Example.com/hook")?;
    /// assert_eq!(endpoint.as_str(), "http://example.com/hook");
    /// # Ok::<(), costkatana_webhooks_sandbox::sender::EndpointError>(())
    /// ```
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub(super) fn url(&self) -> &reqwest::Url {
        &self.0
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Endpoint {
    type Err = EndpointError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Endpoint::parse(text)
    }
}

/// Why a text is not an [`Endpoint`].
///
/// ```
/// use costkatana_webhooks_sandbox::sender::{Endpoint, EndpointError};
///
/// match Endpoint::parse("ftp://example.com/") {
///     Err(EndpointError::NotHttp { scheme, .. }) => assert_eq!(scheme, "ftp"),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndpointError {
    /// Not an absolute URL.
    Invalid {
        /// The text given.
        text: String,
        /// What the URL parser found wrong, such as `relative URL without a base`.
        reason: String,
    },
    /// A URL whose scheme is neither `http` nor `https`.
    NotHttp {
        /// The text given.
        text: String,
        /// Its scheme, such as `ftp`.
        scheme: String,
    },
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndpointError::Invalid { text, reason } => write!(f, "{text:?} is not a URL: {reason}"),
            EndpointError::NotHttp { text, scheme } => write!(
                f,
                "{text:?} is not an http or https URL (its scheme is {scheme})"
            ),
        }
    }
}

impl std::error::Error for EndpointError {}

/// A delivery as the Cost Katana sender makes it: a POST to an
/// [`Endpoint`] with the sender's constant headers, the signature headers
/// of one scheme, the user's custom headers, and the body.
///
/// It is signed once, when made: every attempt sends the same bytes (same
/// timestamp, same signature), as the sender's retries do.
///
/// ```
/// use costkatana_webhooks_sandbox::sender::{Endpoint, SignedRequest};
/// use costkatana_webhooks::{Scheme, Verifier};
///
/// let endpoint = Endpoint::parse("http://127.0.0.1:3000/webhooks/costkatana")?;
/// let request = SignedRequest::new(endpoint, Scheme::Current, "s3cret", 1_777_377_600_000, "{}");
/// assert_eq!(request.headers()["user-agent"], "CostKatana-Webhook/1.0");
///
/// let verifier = Verifier::builder().secret("s3cret").build()?;
/// assert!(verifier.verify_at(request.headers(), request.body().clone(), 1_777_377_600_000).is_ok());
///
/// // Debug names the headers, never their values (a custom one may be a credential).
/// let signature = request.headers()["x-webhook-signature"].to_str()?;
/// assert!(!format!("{request:?}").contains(signature));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SignedRequest {
    endpoint: Endpoint,
    headers: HeaderMap,
    body: Bytes,
}

impl fmt::Debug for SignedRequest {
    /// The endpoint, the headers' names (their values may be credentials:
    /// a custom auth header, a bearer token) and the body's length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.keys().map(HeaderName::as_str).collect();
        f.debug_struct("SignedRequest")
            .field("endpoint", &self.endpoint.as_str())
            .field("headers", &names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl SignedRequest {
    /// `body` for `endpoint`, signed under `scheme` with `secret` (its UTF-8
    /// text, as the sender keys it) at `timestamp_ms`.
    ///
    /// ```
    /// use costkatana_webhooks_sandbox::sender::{Endpoint, SignedRequest};
    /// use costkatana_webhooks::Scheme;
    ///
    /// let endpoint = Endpoint::parse("http://127.0.0.1:3000/")?;
    /// let request = SignedRequest::new(endpoint, Scheme::Documented, "s3cret", 1_777_377_600_123, "{}");
    /// assert!(request.headers()["x-costkatana-signature"].to_str()?.starts_with("t=1777377600,v1="));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(
        endpoint: Endpoint,
        scheme: Scheme,
        secret: &str,
        timestamp_ms: i64,
        body: impl Into<Bytes>,
    ) -> SignedRequest {
        let body = body.into();
        let signed = sign(scheme, secret, timestamp_ms, &body);
        let mut headers = HeaderMap::new();
        let fixed = SENDER_HEADERS
            .iter()
            .map(|(name, value)| (*name, *value))
            .chain(signed.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        for (name, value) in fixed {
            // Constant names, digit and hex values: always valid header text.
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.insert(name, value);
            }
        }
        SignedRequest {
            endpoint,
            headers,
            body,
        }
    }

    /// A request signed elsewhere, sent exactly as given: `headers` (the
    /// signature's among them) and `body` byte for byte. How a stored
    /// delivery is sent again, unchanged, by its retries and replays.
    ///
    /// ```
    /// use costkatana_webhooks_sandbox::sender::{Endpoint, SignedRequest};
    /// use http::{HeaderMap, HeaderValue};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert("x-webhook-timestamp", HeaderValue::from_static("1777377600000"));
    /// headers.insert("x-webhook-signature", HeaderValue::from_static("ab12"));
    /// let endpoint = Endpoint::parse("http://127.0.0.1:3000/hook")?;
    /// let request = SignedRequest::from_parts(endpoint, headers.clone(), "{}");
    /// assert_eq!(request.headers(), &headers);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_parts(
        endpoint: Endpoint,
        headers: HeaderMap,
        body: impl Into<Bytes>,
    ) -> SignedRequest {
        SignedRequest {
            endpoint,
            headers,
            body: body.into(),
        }
    }

    /// Adds the webhook's custom headers (an `Authorization`, say), as the
    /// sender does after its own: each name replaces a header already there,
    /// and of a name given several times the last value is kept.
    ///
    /// ```
    /// use costkatana_webhooks_sandbox::sender::{Endpoint, SignedRequest};
    /// use costkatana_webhooks::Scheme;
    /// use http::{HeaderMap, HeaderValue};
    ///
    /// let mut custom = HeaderMap::new();
    /// custom.insert("authorization", HeaderValue::from_static("Bearer t0ken"));
    /// let endpoint = Endpoint::parse("http://127.0.0.1:3000/")?;
    /// let request = SignedRequest::new(endpoint, Scheme::Current, "s3cret", 0, "{}").with_headers(&custom);
    /// assert_eq!(request.headers()["authorization"], "Bearer t0ken");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_headers(mut self, custom: &HeaderMap) -> SignedRequest {
        for (name, value) in custom {
            self.headers.insert(name.clone(), value.clone());
        }
        self
    }

    /// Where it goes.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::sender::{Endpoint, SignedRequest};
    /// # use costkatana_webhooks::Scheme;
    /// let endpoint = Endpoint::parse("http://127.0.0.1:3000/hook")?;
    /// let request = SignedRequest::new(endpoint.clone(), Scheme::Current, "s3cret", 0, "{}");
    /// assert_eq!(request.endpoint(), &endpoint);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Every header sent: the sender's, the signature's, the custom ones.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::sender::{Endpoint, SignedRequest};
    /// # use costkatana_webhooks::Scheme;
    /// # let endpoint = Endpoint::parse("http://127.0.0.1:3000/hook")?;
    /// let request = SignedRequest::new(endpoint, Scheme::Current, "s3cret", 1_777_377_600_000, "{}");
    /// assert_eq!(request.headers()["x-webhook-timestamp"], "1777377600000");
    /// assert_eq!(request.headers()["x-webhook-event-type"], "webhook-delivery");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body, byte for byte as signed.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::sender::{Endpoint, SignedRequest};
    /// # use costkatana_webhooks::Scheme;
    /// # let endpoint = Endpoint::parse("http://127.0.0.1:3000/hook")?;
    /// let request = SignedRequest::new(endpoint, Scheme::Current, "s3cret", 0, "{ }\n");
    /// assert_eq!(request.body().as_ref(), b"{ }\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn body(&self) -> &Bytes {
        &self.body
    }
}
