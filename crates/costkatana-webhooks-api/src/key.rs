//! The API key: sent as a Bearer token, never shown past its prefix.

use std::fmt;

/// A Cost Katana API key (`dak_…`, or the older `ck_…`).
///
/// `Debug` and [`ApiKey::shown`] give its prefix only, so it can be named
/// in logs and errors without being leaked.
///
/// ```
/// use costkatana_webhooks_api::ApiKey;
///
/// let key = ApiKey::new("dak_0123456789abcdef");
/// assert_eq!(key.shown(), "dak_…");
/// assert_eq!(format!("{key:?}"), "ApiKey(dak_…)");
/// assert_eq!(ApiKey::new("hunter2").shown(), "…");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// The key as issued, surrounding whitespace trimmed (a copied key
    /// often carries a newline).
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into().trim().to_owned())
    }

    /// The key for showing: its `dak_` or `ck_` prefix, never more.
    pub fn shown(&self) -> String {
        let prefix = ["dak_", "ck_"]
            .into_iter()
            .find(|prefix| self.0.starts_with(prefix))
            .unwrap_or("");
        format!("{prefix}…")
    }

    /// Whether the key is empty.
    ///
    /// ```
    /// # use costkatana_webhooks_api::ApiKey;
    /// assert!(ApiKey::new("  \n").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.shown())
    }
}

impl From<&str> for ApiKey {
    fn from(key: &str) -> Self {
        ApiKey::new(key)
    }
}

impl From<String> for ApiKey {
    fn from(key: String) -> Self {
        ApiKey::new(key)
    }
}
