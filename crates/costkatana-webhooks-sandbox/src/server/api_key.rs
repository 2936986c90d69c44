//! The one API key a sandbox accepts.

use std::fmt;

use subtle::ConstantTimeEq;

use crate::random;

/// The longest key accepted.
const MAX_KEY_LENGTH: usize = 512;

/// The API key a sandbox accepts in `Authorization: Bearer <key>`.
///
/// Its `Debug` shows the key's prefix only (`dak_…`), never the key.
/// A generated key has the live dashboard keys' form,
/// `dak_<user id>_<key id>_<secret>`, and the sandbox's events carry its
/// user id.
///
/// ```
/// use costkatana_webhooks_sandbox::ApiKey;
///
/// let key = ApiKey::generate()?;
/// assert!(key.expose().starts_with("dak_"));
/// assert_eq!(format!("{key:?}"), "ApiKey(\"dak_…\")");
///
/// let mine = ApiKey::new("dak_local_test_key")?;
/// assert_eq!(mine.expose(), "dak_local_test_key");
/// assert!(ApiKey::new("two words").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// `key` as the sandbox's key: 1 to 512 visible ASCII characters (no
    /// spaces), as fits in a header. Any prefix is accepted; the live
    /// service's dashboard keys start with `dak_` (older ones `ck_`).
    ///
    /// # Errors
    ///
    /// [`ApiKeyError`] when `key` is empty, too long or has other
    /// characters.
    ///
    /// ```
    /// use costkatana_webhooks_sandbox::ApiKey;
    /// assert!(ApiKey::new("ck_0123").is_ok());
    /// assert!(ApiKey::new("").is_err());
    /// ```
    pub fn new(key: impl Into<String>) -> Result<ApiKey, ApiKeyError> {
        let key = key.into();
        if key.is_empty() {
            return Err(ApiKeyError::Empty);
        }
        if key.len() > MAX_KEY_LENGTH {
            return Err(ApiKeyError::TooLong);
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiKeyError::NotVisibleAscii);
        }
        Ok(ApiKey(key))
    }

    /// A random key of the dashboard keys' form: `dak_`, a 24-hex user id,
    /// a 16-hex key id and a 32-hex secret, joined by `_`.
    ///
    /// # Errors
    ///
    /// [`ApiKeyError::NoRandomness`] when the operating system gives no
    /// random bytes.
    ///
    /// ```
    /// use costkatana_webhooks_sandbox::ApiKey;
    /// let key = ApiKey::generate()?;
    /// assert_eq!(key.expose().split('_').count(), 4);
    /// assert_ne!(key, ApiKey::generate()?);
    /// # Ok::<(), costkatana_webhooks_sandbox::ApiKeyError>(())
    /// ```
    pub fn generate() -> Result<ApiKey, ApiKeyError> {
        let part = |n: usize| -> Result<String, ApiKeyError> {
            let text = random::hex::<16>().map_err(|_| ApiKeyError::NoRandomness)?;
            Ok(text[..n].to_owned())
        };
        Ok(ApiKey(format!(
            "dak_{}_{}_{}",
            part(24)?,
            part(16)?,
            part(32)?
        )))
    }

    /// The key itself, for the one who needs it (to print it once for the
    /// user, to send it). Never log it.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::ApiKey;
    /// let key = ApiKey::new("dak_abc")?;
    /// let header = format!("Bearer {}", key.expose());
    /// # Ok::<(), costkatana_webhooks_sandbox::ApiKeyError>(())
    /// ```
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What may be shown of it: `dak_` or `ck_` when it starts so, else
    /// nothing.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::ApiKey;
    /// assert_eq!(ApiKey::new("dak_abc")?.prefix(), "dak_");
    /// assert_eq!(ApiKey::new("ck_abc")?.prefix(), "ck_");
    /// assert_eq!(ApiKey::new("secret")?.prefix(), "");
    /// # Ok::<(), costkatana_webhooks_sandbox::ApiKeyError>(())
    /// ```
    pub fn prefix(&self) -> &'static str {
        ["dak_", "ck_"]
            .into_iter()
            .find(|prefix| self.0.starts_with(prefix))
            .unwrap_or("")
    }

    /// Whether `token` is this key, compared in constant time.
    pub(crate) fn matches(&self, token: &str) -> bool {
        self.0.len() == token.len() && bool::from(self.0.as_bytes().ct_eq(token.as_bytes()))
    }

    /// The user id a `dak_<user id>_…` key carries (24 hex characters).
    pub(crate) fn user_id(&self) -> Option<&str> {
        let user = self.0.strip_prefix("dak_")?.split('_').next()?;
        (user.len() == 24 && user.bytes().all(|b| b.is_ascii_hexdigit())).then_some(user)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey(\"{}…\")", self.prefix())
    }
}

/// Why a text cannot be a sandbox's [`ApiKey`].
///
/// ```
/// use costkatana_webhooks_sandbox::{ApiKey, ApiKeyError};
/// assert_eq!(ApiKey::new("").unwrap_err(), ApiKeyError::Empty);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiKeyError {
    /// The key is empty.
    Empty,
    /// The key is longer than 512 characters.
    TooLong,
    /// The key has a character other than visible ASCII (a space, say).
    NotVisibleAscii,
    /// No random bytes to make one.
    NoRandomness,
}

impl fmt::Display for ApiKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApiKeyError::Empty => "the API key is empty",
            ApiKeyError::TooLong => "the API key is longer than 512 characters",
            ApiKeyError::NotVisibleAscii => {
                "the API key may only hold visible ASCII characters (no spaces)"
            }
            ApiKeyError::NoRandomness => {
                "cannot make an API key: the operating system gave no random bytes"
            }
        })
    }
}

impl std::error::Error for ApiKeyError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_carry_a_user_id() {
        let key = ApiKey::generate().unwrap();
        let user = key.user_id().unwrap();
        assert_eq!(user.len(), 24);
        assert!(key.matches(key.expose()));
        assert!(!key.matches("dak_"));
        assert_eq!(ApiKey::new("dak_short_x").unwrap().user_id(), None);
    }
}
