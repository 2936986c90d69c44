//! The three signing schemes and their header names.

use std::fmt;
use std::str::FromStr;

use crate::ConfigError;

/// A Cost Katana signing scheme.
///
/// All three sign `<timestamp>.<raw body>` with HMAC-SHA256 keyed by the
/// secret's UTF-8 text; they differ in headers and timestamp units.
///
/// | scheme | timestamp | signature |
/// |---|---|---|
/// | `current` | `X-Webhook-Timestamp`, ms | `X-Webhook-Signature: <hex>` |
/// | `legacy` | `X-CostKatana-Timestamp`, ms | `X-CostKatana-Signature: sha256=<hex>` (or bare hex) |
/// | `documented` | in the signature, s | `X-CostKatana-Signature: t=<s>,v1=<hex>[,v1=…]` |
///
/// ```
/// use costkatana_webhooks::Scheme;
///
/// let scheme: Scheme = "legacy".parse()?;
/// assert_eq!(scheme, Scheme::Legacy);
/// assert_eq!(scheme.to_string(), "legacy");
/// assert_eq!(Scheme::Current.signature_header(), "X-Webhook-Signature");
/// # Ok::<(), costkatana_webhooks::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// Sent by the current backend: millisecond timestamp, bare hex signature.
    Current,
    /// Sent by the older backend: millisecond timestamp, `sha256=<hex>`.
    Legacy,
    /// Documented in the guide: `t=<seconds>,v1=<hex>` in one header.
    Documented,
}

impl Scheme {
    /// Every scheme.
    ///
    /// ```
    /// assert_eq!(costkatana_webhooks::Scheme::ALL.len(), 3);
    /// ```
    pub const ALL: [Scheme; 3] = [Scheme::Current, Scheme::Legacy, Scheme::Documented];

    /// The scheme's name: `current`, `legacy` or `documented`.
    ///
    /// ```
    /// assert_eq!(costkatana_webhooks::Scheme::Documented.as_str(), "documented");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Current => "current",
            Scheme::Legacy => "legacy",
            Scheme::Documented => "documented",
        }
    }

    /// The header carrying the signature, in its canonical spelling.
    ///
    /// ```
    /// use costkatana_webhooks::Scheme;
    /// assert_eq!(Scheme::Legacy.signature_header(), "X-CostKatana-Signature");
    /// ```
    pub const fn signature_header(self) -> &'static str {
        match self {
            Scheme::Current => "X-Webhook-Signature",
            Scheme::Legacy | Scheme::Documented => "X-CostKatana-Signature",
        }
    }

    /// The separate timestamp header, if the scheme has one.
    ///
    /// ```
    /// use costkatana_webhooks::Scheme;
    /// assert_eq!(Scheme::Current.timestamp_header(), Some("X-Webhook-Timestamp"));
    /// assert_eq!(Scheme::Documented.timestamp_header(), None);
    /// ```
    pub const fn timestamp_header(self) -> Option<&'static str> {
        match self {
            Scheme::Current => Some("X-Webhook-Timestamp"),
            Scheme::Legacy => Some("X-CostKatana-Timestamp"),
            Scheme::Documented => None,
        }
    }

    /// Milliseconds per unit of the scheme's timestamp (1 or 1000).
    ///
    /// ```
    /// use costkatana_webhooks::Scheme;
    /// assert_eq!(Scheme::Current.ms_per_timestamp_unit(), 1);
    /// assert_eq!(Scheme::Documented.ms_per_timestamp_unit(), 1000);
    /// ```
    pub const fn ms_per_timestamp_unit(self) -> i64 {
        match self {
            Scheme::Current | Scheme::Legacy => 1,
            Scheme::Documented => 1000,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scheme {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scheme::ALL
            .into_iter()
            .find(|scheme| scheme.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                ConfigError::new(format!(
                    "unknown signing scheme {s:?}: expected current, legacy or documented"
                ))
            })
    }
}

/// Lowercase header names, as passed to [`Headers::header`](crate::Headers::header).
pub(crate) mod names {
    pub(crate) const WEBHOOK_SIGNATURE: &str = "x-webhook-signature";
    pub(crate) const WEBHOOK_TIMESTAMP: &str = "x-webhook-timestamp";
    pub(crate) const COSTKATANA_SIGNATURE: &str = "x-costkatana-signature";
    pub(crate) const COSTKATANA_TIMESTAMP: &str = "x-costkatana-timestamp";
}
