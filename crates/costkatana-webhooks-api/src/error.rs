//! What a call to the API can end in, besides its answer.

use std::fmt;

use serde::Deserialize;

/// Why a call failed, by the status or the transport failure behind it.
///
/// ```
/// use costkatana_webhooks_api::ApiErrorKind;
/// assert!(ApiErrorKind::Server.is_transient());
/// assert!(!ApiErrorKind::Unauthorized.is_transient());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// 401: no key, or a key the API refused.
    Unauthorized,
    /// 403: the key may not do this.
    Forbidden,
    /// 404: no such webhook or delivery.
    NotFound,
    /// 400 with field errors (`Validation failed`): see
    /// [`ApiError::field_errors`].
    Validation,
    /// Any other 4xx: the request can never succeed as it is (the message
    /// says why, such as `Webhook is not active`).
    Rejected,
    /// 429: too many requests.
    RateLimited,
    /// 5xx.
    Server,
    /// No answer within the time-out.
    Timeout,
    /// No connection (refused, unreachable, DNS).
    Connect,
    /// An answer that is not what the API sends.
    Decode,
    /// The client's own settings (an invalid base URL, say).
    Config,
}

impl ApiErrorKind {
    /// Whether trying the same call again later may succeed.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ApiErrorKind::Server
                | ApiErrorKind::Timeout
                | ApiErrorKind::Connect
                | ApiErrorKind::RateLimited
        )
    }
}

/// One invalid field of a request, as the API names it.
///
/// ```
/// use costkatana_webhooks_api::FieldError;
/// let err: FieldError = serde_json::from_str(
///     r#"{"field":"events.0","message":"Invalid enum value","code":"invalid_enum_value"}"#,
/// )?;
/// assert_eq!(err.field, "events.0");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct FieldError {
    /// The field's path, such as `events.0` or `retryConfig.maxRetries`.
    #[serde(default)]
    pub field: String,
    /// What is wrong with it.
    #[serde(default)]
    pub message: String,
    /// The validator's code, such as `invalid_enum_value` or `too_small`.
    #[serde(default)]
    pub code: Option<String>,
}

/// A failed call: its kind, the HTTP status when there was one, and the
/// server's message and field errors. Never holds the API key (only its
/// prefix, in [`ApiErrorKind::Unauthorized`] messages).
///
/// ```
/// use costkatana_webhooks_api::{ApiError, ApiErrorKind};
/// # fn handle(err: ApiError) {
/// match err.kind() {
///     ApiErrorKind::Validation => {
///         for field in err.field_errors() {
///             eprintln!("{}: {}", field.field, field.message);
///         }
///     }
///     kind if kind.is_transient() => eprintln!("try again later: {err}"),
///     _ => eprintln!("{err}"),
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct ApiError {
    kind: ApiErrorKind,
    status: Option<u16>,
    message: String,
    fields: Vec<FieldError>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ApiError {
    pub(crate) fn new(kind: ApiErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            status: None,
            message: message.into(),
            fields: Vec::new(),
            source: None,
        }
    }

    pub(crate) fn caused_by(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The error for an answer with `status` and the API's error body.
    pub(crate) fn from_answer(status: u16, body: &[u8], what: &str) -> Self {
        #[derive(Deserialize)]
        struct Body {
            #[serde(default)]
            message: Option<String>,
            #[serde(default)]
            errors: Vec<FieldError>,
        }
        let parsed: Option<Body> = serde_json::from_slice(body).ok();
        let (message, fields) = match parsed {
            Some(body) => (body.message, body.errors),
            None => (None, Vec::new()),
        };
        let kind = match status {
            401 => ApiErrorKind::Unauthorized,
            403 => ApiErrorKind::Forbidden,
            404 => ApiErrorKind::NotFound,
            429 => ApiErrorKind::RateLimited,
            400 if !fields.is_empty() => ApiErrorKind::Validation,
            500..=599 => ApiErrorKind::Server,
            _ => ApiErrorKind::Rejected,
        };
        let message = message.unwrap_or_else(|| format!("HTTP {status}"));
        ApiError {
            kind,
            status: Some(status),
            message: format!("{what}: {message}"),
            fields,
            source: None,
        }
    }

    /// Why the call failed.
    pub fn kind(&self) -> ApiErrorKind {
        self.kind
    }

    /// The HTTP status, when the API answered.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The invalid fields of a [`ApiErrorKind::Validation`] error.
    pub fn field_errors(&self) -> &[FieldError] {
        &self.fields
    }

    /// The message: what was asked, then the server's words or the
    /// transport's failure.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        for field in &self.fields {
            write!(f, "; {}: {}", field.field, field.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_kinds_with_the_servers_words() {
        let err = ApiError::from_answer(
            400,
            br#"{"success":false,"message":"Validation failed","errors":[{"field":"events.0","message":"Invalid enum value","code":"invalid_enum_value"}]}"#,
            "create a webhook",
        );
        assert_eq!(err.kind(), ApiErrorKind::Validation);
        assert_eq!(
            err.field_errors()[0].code.as_deref(),
            Some("invalid_enum_value")
        );
        assert_eq!(
            err.to_string(),
            "create a webhook: Validation failed (HTTP 400); events.0: Invalid enum value"
        );
        let err = ApiError::from_answer(
            400,
            br#"{"success":false,"message":"Webhook is not active"}"#,
            "test",
        );
        assert_eq!(err.kind(), ApiErrorKind::Rejected);
        assert_eq!(
            ApiError::from_answer(404, b"", "get").kind(),
            ApiErrorKind::NotFound
        );
        assert_eq!(
            ApiError::from_answer(502, b"<html>", "get").message(),
            "get: HTTP 502"
        );
    }
}
