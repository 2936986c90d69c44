//! Webhook secrets: the HMAC key, exactly as configured on the sender.

use std::fmt;

use zeroize::Zeroizing;

use crate::{mac, ConfigError};

/// A webhook secret.
///
/// The HMAC key is the UTF-8 bytes of the secret text **exactly as given**:
/// it is never hex- or base64-decoded and a `whsec_` prefix is kept. Its
/// `Debug` output is redacted.
///
/// What is kept is not the text but the HMAC keyed with it (the inner and
/// outer SHA-256 states after the padded key, about 200 bytes), so that a
/// verification does not key HMAC again. That state can sign, so it is as
/// sensitive as the secret: the text given is zeroized once absorbed, and
/// the state is overwritten on drop. The overwrite is best effort (the
/// `hmac` crate offers no zeroize of its own, and this crate uses no
/// `unsafe`), and a clone of a `Secret` is a second copy of it.
///
/// ```
/// use costkatana_webhooks::Secret;
///
/// let secret = Secret::new("whsec_test_secret")?;
/// assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
/// # Ok::<(), costkatana_webhooks::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Secret {
    keyed: mac::Keyed,
    /// The secret with trailing whitespace added (a newline, CRLF, a
    /// space), keyed: what a sender whose copy of the secret has that
    /// whitespace signs with. Only a rejected request's diagnosis reads them.
    padded: Box<[mac::Keyed]>,
    /// The secret trimmed of trailing whitespace, keyed, when it has some:
    /// what a sender whose copy lacks it signs with.
    trimmed: Option<mac::Keyed>,
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.keyed = mac::keyed(&[]);
        for keyed in self.padded.iter_mut().chain(self.trimmed.as_mut()) {
            *keyed = mac::keyed(&[]);
        }
        // Keep the overwrites: the states are read once more.
        std::hint::black_box(&mut self.keyed);
        std::hint::black_box(&mut self.padded);
        std::hint::black_box(&mut self.trimmed);
    }
}

impl Secret {
    /// A secret from its text.
    ///
    /// # Errors
    ///
    /// An empty secret, and a secret with leading or trailing whitespace
    /// (almost always a copy-paste or `.env` mistake: the sender would sign
    /// without it). If the secret really has surrounding whitespace, use
    /// [`Secret::with_surrounding_whitespace`].
    ///
    /// ```
    /// use costkatana_webhooks::Secret;
    ///
    /// assert!(Secret::new("s3cret").is_ok());
    /// assert!(Secret::new("").is_err());
    /// let err = Secret::new("s3cret\n").unwrap_err();
    /// assert!(err.to_string().contains("whitespace"));
    /// ```
    pub fn new(text: impl Into<String>) -> Result<Self, ConfigError> {
        let text = Zeroizing::new(text.into());
        if text.trim() != text.as_str() {
            return Err(ConfigError::new(
                "the webhook secret has leading or trailing whitespace, which is almost \
                 always a mistake (a newline from a file or .env); trim it, or use \
                 Secret::with_surrounding_whitespace if the sender's secret really has it",
            ));
        }
        Self::with_surrounding_whitespace(text.as_str())
    }

    /// A secret from its text, keeping leading or trailing whitespace.
    ///
    /// # Errors
    ///
    /// An empty secret.
    ///
    /// ```
    /// use costkatana_webhooks::Secret;
    ///
    /// assert!(Secret::with_surrounding_whitespace(" padded ").is_ok());
    /// assert!(Secret::with_surrounding_whitespace("").is_err());
    /// ```
    pub fn with_surrounding_whitespace(text: impl AsRef<str>) -> Result<Self, ConfigError> {
        let text = text.as_ref();
        if text.is_empty() {
            return Err(ConfigError::new("the webhook secret is empty"));
        }
        let padded = ["\n", "\r\n", " "]
            .iter()
            .map(|end| mac::keyed(Zeroizing::new(format!("{text}{end}")).as_bytes()))
            .collect();
        let trimmed = (text.trim_end() != text && !text.trim_end().is_empty())
            .then(|| mac::keyed(text.trim_end().as_bytes()));
        Ok(Secret {
            keyed: mac::keyed(text.as_bytes()),
            padded,
            trimmed,
        })
    }

    /// HMAC keyed with the secret.
    pub(crate) fn keyed(&self) -> &mac::Keyed {
        &self.keyed
    }

    /// HMAC keyed with the secret plus trailing whitespace: a sender
    /// whose copy of the secret has a newline, CRLF or space at its end.
    pub(crate) fn padded_variants(&self) -> &[mac::Keyed] {
        &self.padded
    }

    /// HMAC keyed with the secret trimmed of its trailing whitespace, when
    /// it has some: a sender whose copy lacks the receiver's whitespace.
    pub(crate) fn trimmed_variant(&self) -> Option<&mac::Keyed> {
        self.trimmed.as_ref()
    }

    /// Several secrets from one comma-separated text, as read from an
    /// environment variable such as `COSTKATANA_WEBHOOK_SECRET`. Each part is
    /// trimmed of surrounding whitespace.
    ///
    /// # Errors
    ///
    /// An empty list or an empty part.
    ///
    /// ```
    /// use costkatana_webhooks::Secret;
    ///
    /// let secrets = Secret::parse_list("new-secret, old-secret")?;
    /// assert_eq!(secrets.len(), 2);
    /// assert!(Secret::parse_list("a,,b").is_err());
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn parse_list(text: &str) -> Result<Vec<Secret>, ConfigError> {
        text.split(',')
            .map(|part| Secret::new(part.trim()))
            .collect()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl TryFrom<&str> for Secret {
    type Error = ConfigError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        Secret::new(text)
    }
}

impl TryFrom<String> for Secret {
    type Error = ConfigError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Secret::new(text)
    }
}
