//! One error type for opening and operating an inbox.

use std::fmt;

use costkatana_webhooks::dedupe::StoreError;

/// Why an inbox could not be opened or could not answer.
///
/// Its message names what failed (the file, the server, the operation) and
/// never holds a password: URLs are shown without their credentials.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let err = costkatana_webhooks_inbox::Inbox::open("mysql://db/inbox").await.unwrap_err();
/// assert!(err.to_string().contains("sqlite:<path> or postgres://"));
/// # });
/// ```
#[derive(Debug)]
pub struct InboxError {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl InboxError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        InboxError {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn caused_by(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        InboxError {
            message: message.into(),
            source: Some(source.into()),
        }
    }
}

impl fmt::Display for InboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for InboxError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as _)
    }
}

impl From<InboxError> for StoreError {
    fn from(err: InboxError) -> Self {
        StoreError::inbox(err.to_string()).caused_by(err)
    }
}
