//! A request whose signature checked out.

use std::sync::OnceLock;

use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::signed_headers::Tag;
use crate::{Event, Payload, Scheme};

/// A verified request: its scheme, the secret that matched, the timestamp,
/// the raw bytes, and the payload parsed lazily on first use.
///
/// Cheap to clone (the body is reference-counted) and `Send + Sync`, so it
/// can travel in request extensions. Its `Debug` output shows the scheme,
/// the timestamp and the body's length, never the body or the signature.
///
/// ```
/// use costkatana_webhooks::{EventType, Payload, Verifier};
///
/// let verifier = Verifier::builder().secret("whsec_test_secret").build()?;
/// let body = r#"{"event_type":"cost.alert","data":{"amount":100}}"#;
/// let headers = [("X-CostKatana-Signature",
///     "t=1705320600,v1=8e7a9a20aa184accf213305d7c9527ee23b7719acf0048d4eba31bf3e0e51008")];
/// let verified = verifier.verify_at(&headers, body, 1_705_320_610_000)?;
///
/// assert_eq!(verified.secret_index(), 0);
/// assert_eq!(verified.body(), body.as_bytes());
/// let event = verified.event().expect("an event body");
/// assert_eq!(event.event_type, EventType::CostAlert);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Verified {
    scheme: Scheme,
    secret_index: usize,
    timestamp_ms: i64,
    signature: Tag,
    body: Bytes,
    payload: OnceLock<Payload>,
}

impl std::fmt::Debug for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verified")
            .field("scheme", &self.scheme)
            .field("secret_index", &self.secret_index)
            .field("timestamp_ms", &self.timestamp_ms)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl Verified {
    pub(crate) fn new(
        scheme: Scheme,
        secret_index: usize,
        timestamp_ms: i64,
        signature: Tag,
        body: Bytes,
    ) -> Self {
        Verified {
            scheme,
            secret_index,
            timestamp_ms,
            signature,
            body,
            payload: OnceLock::new(),
        }
    }

    /// The scheme the request was signed with.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The position of the configured secret that matched (0 for the first),
    /// for rotation metrics.
    pub fn secret_index(&self) -> usize {
        self.secret_index
    }

    /// The signed timestamp, in milliseconds since the epoch (documented
    /// seconds are converted).
    pub fn timestamp_ms(&self) -> i64 {
        self.timestamp_ms
    }

    /// The signature that matched, as lowercase hex. For `current` and
    /// `legacy` it is the same on every retry of one delivery, so it serves
    /// as a dedupe key when the body has no event id.
    pub fn signature_hex(&self) -> String {
        hex::encode(self.signature)
    }

    /// The raw body, exactly as received and verified.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The raw body as shared bytes (no copy).
    pub fn body_bytes(&self) -> Bytes {
        self.body.clone()
    }

    /// The body, parsed on first call: a typed event, a template text, other
    /// JSON, or not JSON at all. Never fails: every verified body is
    /// authentic and reaches the user in some form.
    pub fn payload(&self) -> &Payload {
        self.payload
            .get_or_init(|| Payload::parse_shared(&self.body))
    }

    /// Moves the parsed payload out (parsing it now if needed); a later
    /// [`Verified::payload`] call parses again.
    pub(crate) fn take_payload(&mut self) -> Payload {
        self.payload
            .take()
            .unwrap_or_else(|| Payload::parse_shared(&self.body))
    }

    /// The typed event, when the body is one.
    pub fn event(&self) -> Option<&Event> {
        match self.payload() {
            Payload::Event(event) => Some(event),
            _ => None,
        }
    }

    /// The body deserialized as the user's own type.
    ///
    /// # Errors
    ///
    /// The body does not fit `T`; the message names the position, never the
    /// content.
    ///
    /// ```
    /// # use costkatana_webhooks::Verifier;
    /// # let verifier = Verifier::builder().secret("whsec_test_secret").build()?;
    /// # let headers = [("X-CostKatana-Signature",
    /// #    "t=1705320600,v1=8e7a9a20aa184accf213305d7c9527ee23b7719acf0048d4eba31bf3e0e51008")];
    /// # let verified = verifier.verify_at(&headers, r#"{"event_type":"cost.alert","data":{"amount":100}}"#, 1_705_320_610_000)?;
    /// #[derive(serde::Deserialize)]
    /// struct MyAlert { data: MyData }
    /// #[derive(serde::Deserialize)]
    /// struct MyData { amount: f64 }
    ///
    /// let alert: MyAlert = verified.json()?;
    /// assert_eq!(alert.data.amount, 100.0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, JsonError> {
        serde_json::from_slice(&self.body).map_err(|err| JsonError {
            line: err.line(),
            column: err.column(),
            category: match err.classify() {
                serde_json::error::Category::Io => "I/O",
                serde_json::error::Category::Syntax => "syntax",
                serde_json::error::Category::Data => "shape",
                serde_json::error::Category::Eof => "unexpected end",
            },
        })
    }
}

/// The verified body did not deserialize into the requested type.
///
/// ```
/// # use costkatana_webhooks::Verifier;
/// # let verifier = Verifier::builder().secret("whsec_test_secret").build()?;
/// # let headers = [("X-CostKatana-Signature",
/// #    "t=1705320600,v1=8e7a9a20aa184accf213305d7c9527ee23b7719acf0048d4eba31bf3e0e51008")];
/// # let verified = verifier.verify_at(&headers, r#"{"event_type":"cost.alert","data":{"amount":100}}"#, 1_705_320_610_000)?;
/// let err = verified.json::<Vec<u32>>().unwrap_err();
/// assert!(err.to_string().contains("line 1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    line: usize,
    column: usize,
    category: &'static str,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the body does not fit the requested type ({} error at line {}, column {})",
            self.category, self.line, self.column
        )
    }
}

impl std::error::Error for JsonError {}
