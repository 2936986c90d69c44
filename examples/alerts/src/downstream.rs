//! Posting JSON to a downstream service, with errors that name the service
//! but never its URL (a Slack webhook URL is a credential).

use costkatana_webhooks::HandlerResult;
use serde_json::Value;

/// One HTTP client for every downstream call, bounded in time.
#[derive(Debug, Clone)]
pub(crate) struct Downstream {
    client: reqwest::Client,
}

impl Downstream {
    pub(crate) fn new(timeout: std::time::Duration) -> Result<Downstream, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {}", e.without_url()))?;
        Ok(Downstream { client })
    }

    /// POSTs `body` to `url`; anything but a 2xx answer is an error, so the
    /// delivery is answered 500 and the sender retries it.
    pub(crate) async fn post(&self, service: &str, url: &str, body: &Value) -> HandlerResult {
        let response = self
            .client
            .post(url)
            .json(body)
            .send()
            .await
            .map_err(|e| format!("{service} unreachable: {}", e.without_url()))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("{service} answered {status}").into())
        }
    }
}
