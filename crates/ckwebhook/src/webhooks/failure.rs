//! A failed API call as the CLI reports it: which server, what was asked,
//! the server's words (each invalid field on its own line), and what to do.
//! The key is never named past its prefix: the client's messages carry
//! only that.

use costkatana_webhooks_api::{ApiError, ApiErrorKind};

use super::Api;
use crate::error::{CliError, ErrorKind};

impl Api {
    /// `err`, reported as a failure of the API at `--api-url`.
    pub(crate) fn fail(&self, err: ApiError) -> CliError {
        api(err, Some(self.client.base_url()))
    }
}

/// `err` as a [`CliError`]: invalid input (the client's settings, the API's
/// validation errors) exits 2, anything else 1.
pub(super) fn api(err: ApiError, server: Option<&str>) -> CliError {
    let kind = match err.kind() {
        ApiErrorKind::Validation | ApiErrorKind::Config => ErrorKind::BadInput,
        _ => ErrorKind::Unavailable,
    };
    let message = describe(&err, server);
    CliError::new(kind, message).with_source(err)
}

/// The message: the server and its answer when there was one, then a hint.
fn describe(err: &ApiError, server: Option<&str>) -> String {
    let said = err.message();
    let Some(server) = server else {
        return said.to_owned();
    };
    // The client rewords a 401 to name the key's prefix, without its status.
    let status = err
        .status()
        .or((err.kind() == ApiErrorKind::Unauthorized).then_some(401));
    let mut text = match status {
        Some(status) => format!("{server} answered {status} to {said}"),
        // A transport failure names the URL itself.
        None if said.contains(server) => said.to_owned(),
        None => format!("{said} (API at {server})"),
    };
    for field in err.field_errors() {
        text.push_str(&format!("\n  {}: {}", field.field, field.message));
    }
    if let Some(hint) = hint(err) {
        text.push_str("\n  ");
        text.push_str(hint);
    }
    text
}

/// What to do next, when something useful can be said.
fn hint(err: &ApiError) -> Option<&'static str> {
    let said = err.message();
    match err.kind() {
        ApiErrorKind::NotFound if said.contains("Delivery not found") => {
            Some("`ckwebhook webhooks deliveries <webhook id>` lists a webhook's delivery records")
        }
        ApiErrorKind::NotFound => Some("`ckwebhook webhooks list` lists the webhooks' ids"),
        ApiErrorKind::Rejected if said.contains("not active") => {
            Some("re-activate it first: `ckwebhook webhooks update <id> --active`")
        }
        ApiErrorKind::Connect | ApiErrorKind::Timeout => {
            Some("check --api-url (COSTKATANA_API_URL) and that the API is up")
        }
        ApiErrorKind::Decode => {
            Some("is --api-url (COSTKATANA_API_URL) the Cost Katana API's base URL?")
        }
        ApiErrorKind::Server | ApiErrorKind::RateLimited => {
            Some("the API failed or is busy: try again later")
        }
        _ => None,
    }
}
