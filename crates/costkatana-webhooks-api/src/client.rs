//! The client: one method per route, every call bounded in time, and
//! retries where a retry cannot do a thing twice.

use std::time::Duration;

use costkatana_webhooks::Backoff;
use futures_util::stream::{self, Stream};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::model::{
    CreateWebhook, Delivery, DeliveryAck, DeliveryQuery, EventCatalog, Page, Pagination,
    QueueStats, UpdateWebhook, Webhook, WebhookFilter, WebhookStats,
};
use crate::{ApiError, ApiErrorKind, ApiKey};

/// The API the guide documents.
pub const DEFAULT_BASE_URL: &str = "https://cost-katana-backend.store";
/// How long one call may take unless told otherwise: 30 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How many times a call is tried, at most, unless told otherwise.
pub const DEFAULT_ATTEMPTS: u32 = 4;

/// A client for the Cost Katana webhook API: every route of the guide's
/// API reference, plus the event catalogue and the queue's stats.
///
/// Cheap to clone (one connection pool). Every call has a time-out. Calls
/// that cannot do a thing twice when repeated (reads, `PUT`, `DELETE`)
/// are retried with backoff on 5xx, 429, time-outs and connection
/// failures; calls that create something (a webhook, a test delivery, a
/// replay) are retried only when the connection failed before the request
/// was sent, never blindly.
///
/// ```no_run
/// use costkatana_webhooks_api::{Client, DeliveryQuery, DeliveryStatus};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::builder()
///     .api_key(std::env::var("COSTKATANA_API_KEY")?)
///     .build()?;
/// for webhook in client.list_webhooks(&Default::default()).await? {
///     println!("{} {} active={}", webhook.id, webhook.url, webhook.active);
/// }
/// let failed = client
///     .deliveries("65f0c0ffee0000000000beef", &DeliveryQuery::new().status(DeliveryStatus::Failed))
///     .await?;
/// println!("{} failed deliveries", failed.pagination.total);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    key: ApiKey,
    timeout: Duration,
    attempts: u32,
    backoff: Backoff,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("key", &self.key)
            .field("timeout", &self.timeout)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`].
///
/// | setting | default |
/// |---|---|
/// | base URL | [`DEFAULT_BASE_URL`] |
/// | API key | required |
/// | time-out per call | 30 s |
/// | attempts of a call that may be retried | 4 |
/// | backoff between them | 250 ms doubling, at most 5 s, jittered |
///
/// ```
/// use std::time::Duration;
/// use costkatana_webhooks_api::Client;
///
/// let client = Client::builder()
///     .base_url("http://127.0.0.1:4000")
///     .api_key("dak_local")
///     .timeout(Duration::from_secs(5))
///     .build()?;
/// assert!(format!("{client:?}").contains("dak_…"));
/// # Ok::<(), costkatana_webhooks_api::ApiError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ClientBuilder {
    base: String,
    key: Option<ApiKey>,
    timeout: Duration,
    attempts: u32,
    backoff: Backoff,
}

impl Client {
    /// A builder with the defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            base: DEFAULT_BASE_URL.to_owned(),
            key: None,
            timeout: DEFAULT_TIMEOUT,
            attempts: DEFAULT_ATTEMPTS,
            backoff: Backoff::new(Duration::from_millis(250)).max_delay(Duration::from_secs(5)),
        }
    }
}

impl ClientBuilder {
    /// The API's base URL (a trailing `/` is ignored).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base = url.into().trim().trim_end_matches('/').to_owned();
        self
    }

    /// The API key, sent as `Authorization: Bearer <key>`.
    pub fn api_key(mut self, key: impl Into<ApiKey>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// How long one call may take (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many times a retryable call is tried at most (default 4, at
    /// least 1).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// The wait between two tries.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// No API key, a base URL that is not http(s), or an HTTP client that
    /// cannot be built.
    pub fn build(self) -> Result<Client, ApiError> {
        let key = self.key.filter(|key| !key.is_empty()).ok_or_else(|| {
            ApiError::new(
                ApiErrorKind::Config,
                "no API key: give one (COSTKATANA_API_KEY), a dashboard key starting dak_",
            )
        })?;
        let scheme_ok = self.base.starts_with("http://") || self.base.starts_with("https://");
        if !scheme_ok || reqwest::Url::parse(&self.base).is_err() {
            return Err(ApiError::new(
                ApiErrorKind::Config,
                format!("the API base URL {:?} is not an http(s) URL", self.base),
            ));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!(
                "costkatana-webhooks-api/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|err| {
                ApiError::new(ApiErrorKind::Config, "could not build the HTTP client")
                    .caused_by(err)
            })?;
        Ok(Client {
            http,
            base: self.base,
            key,
            timeout: self.timeout,
            attempts: self.attempts,
            backoff: self.backoff,
        })
    }
}

/// Whether a call may be sent again after a failure that may have reached
/// the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// Reads, `PUT`, `DELETE`: the same effect however often.
    Safe,
    /// Creates something: again only if the request was never sent.
    OnlyUnsent,
}

#[derive(Deserialize)]
struct WebhookBody {
    webhook: Webhook,
}

#[derive(Deserialize)]
struct WebhooksBody {
    #[serde(default)]
    webhooks: Vec<Webhook>,
}

#[derive(Deserialize)]
struct DeliveriesBody {
    #[serde(default)]
    deliveries: Vec<Delivery>,
    #[serde(default)]
    pagination: Pagination,
}

#[derive(Deserialize)]
struct DeliveryBody {
    delivery: Delivery,
}

#[derive(Deserialize)]
struct StatsBody {
    #[serde(default)]
    stats: WebhookStats,
}

#[derive(Deserialize)]
struct QueueBody {
    #[serde(default)]
    queue: QueueStats,
}

#[derive(Deserialize)]
struct MessageBody {
    #[serde(default)]
    message: String,
}

impl Client {
    /// The base URL calls go to.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The key, for showing: its prefix only.
    pub fn key(&self) -> &ApiKey {
        &self.key
    }

    /// Every webhook, newest first (`GET /api/webhooks`).
    ///
    /// # Errors
    ///
    /// See [`ApiError`].
    pub async fn list_webhooks(&self, filter: &WebhookFilter) -> Result<Vec<Webhook>, ApiError> {
        let mut query = Vec::new();
        if let Some(active) = filter.active {
            query.push(("active", active.to_string()));
        }
        if !filter.events.is_empty() {
            query.push(("events", filter.events.join(",")));
        }
        let body: WebhooksBody = self
            .call(
                Method::GET,
                "/api/webhooks",
                &query,
                None::<&()>,
                Repeat::Safe,
                "list webhooks",
            )
            .await?;
        Ok(body.webhooks)
    }

    /// One webhook, with its counters (`GET /api/webhooks/:id`).
    ///
    /// # Errors
    ///
    /// [`ApiErrorKind::NotFound`] when there is no such webhook; see
    /// [`ApiError`].
    pub async fn webhook(&self, id: &str) -> Result<Webhook, ApiError> {
        let path = format!("/api/webhooks/{}", segment(id));
        let what = format!("get webhook {id}");
        let body: WebhookBody = self
            .call(Method::GET, &path, &[], None::<&()>, Repeat::Safe, &what)
            .await?;
        Ok(body.webhook)
    }

    /// Creates a webhook (`POST /api/webhooks`). Never retried once the
    /// request may have reached the server: check with
    /// [`Client::list_webhooks`] before trying again.
    ///
    /// # Errors
    ///
    /// [`ApiErrorKind::Validation`] with the invalid fields; see
    /// [`ApiError`].
    pub async fn create_webhook(&self, webhook: &CreateWebhook) -> Result<Webhook, ApiError> {
        let body: WebhookBody = self
            .call(
                Method::POST,
                "/api/webhooks",
                &[],
                Some(webhook),
                Repeat::OnlyUnsent,
                "create a webhook",
            )
            .await?;
        Ok(body.webhook)
    }

    /// Changes the fields that are set (`PUT /api/webhooks/:id`);
    /// `active: Some(true)` re-activates a deactivated webhook.
    ///
    /// # Errors
    ///
    /// See [`ApiError`].
    pub async fn update_webhook(
        &self,
        id: &str,
        update: &UpdateWebhook,
    ) -> Result<Webhook, ApiError> {
        let path = format!("/api/webhooks/{}", segment(id));
        let what = format!("update webhook {id}");
        let body: WebhookBody = self
            .call(Method::PUT, &path, &[], Some(update), Repeat::Safe, &what)
            .await?;
        Ok(body.webhook)
    }

    /// Deletes a webhook and its delivery records (`DELETE
    /// /api/webhooks/:id`); returns the API's message.
    ///
    /// # Errors
    ///
    /// See [`ApiError`].
    pub async fn delete_webhook(&self, id: &str) -> Result<String, ApiError> {
        let path = format!("/api/webhooks/{}", segment(id));
        let what = format!("delete webhook {id}");
        let body: MessageBody = self
            .call(Method::DELETE, &path, &[], None::<&()>, Repeat::Safe, &what)
            .await?;
        Ok(body.message)
    }

    /// Sends a test delivery (`system.error` titled "Webhook Test";
    /// `POST /api/webhooks/:id/test`).
    ///
    /// # Errors
    ///
    /// [`ApiErrorKind::Rejected`] when the webhook is not active; see
    /// [`ApiError`].
    pub async fn test_webhook(&self, id: &str) -> Result<DeliveryAck, ApiError> {
        let path = format!("/api/webhooks/{}/test", segment(id));
        let what = format!("test webhook {id}");
        self.call(
            Method::POST,
            &path,
            &[],
            Some(&serde_json::json!({})),
            Repeat::OnlyUnsent,
            &what,
        )
        .await
    }

    /// The stats route (`GET /api/webhooks/:id/stats`), which reports zeros
    /// on the live backend: prefer the counters of [`Client::webhook`].
    ///
    /// # Errors
    ///
    /// See [`ApiError`].
    pub async fn webhook_stats(&self, id: &str) -> Result<WebhookStats, ApiError> {
        let path = format!("/api/webhooks/{}/stats", segment(id));
        let what = format!("get the stats of webhook {id}");
        let body: StatsBody = self
            .call(Method::GET, &path, &[], None::<&()>, Repeat::Safe, &what)
            .await?;
        Ok(body.stats)
    }

    /// One page of a webhook's delivery records, newest first (`GET
    /// /api/webhooks/:id/deliveries`).
    ///
    /// # Errors
    ///
    /// See [`ApiError`].
    pub async fn deliveries(
        &self,
        webhook_id: &str,
        query: &DeliveryQuery,
    ) -> Result<Page<Delivery>, ApiError> {
        let path = format!("/api/webhooks/{}/deliveries", segment(webhook_id));
        let mut params = vec![
            ("limit", query.limit.clamp(1, 100).to_string()),
            ("offset", query.offset.to_string()),
        ];
        if let Some(status) = &query.status {
            params.push(("status", status.as_str().to_owned()));
        }
        if let Some(event_type) = &query.event_type {
            params.push(("eventType", event_type.clone()));
        }
        let what = format!("list the deliveries of webhook {webhook_id}");
        let body: DeliveriesBody = self
            .call(
                Method::GET,
                &path,
                &params,
                None::<&()>,
                Repeat::Safe,
                &what,
            )
            .await?;
        Ok(Page {
            items: body.deliveries,
            pagination: body.pagination,
        })
    }

    /// Every delivery record from `query.offset` on, newest first, page
    /// after page of `query.limit` (at most 100), as a stream: one page in
    /// memory at a time. A failed page ends the stream with its error.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// use costkatana_webhooks_api::{Client, DeliveryQuery};
    ///
    /// # async fn run(client: Client) -> Result<(), costkatana_webhooks_api::ApiError> {
    /// let mut all = std::pin::pin!(client.delivery_stream("65f0c0ffee0000000000beef", DeliveryQuery::new().limit(100)));
    /// while let Some(delivery) = all.try_next().await? {
    ///     println!("{} {} {}", delivery.event_id, delivery.attempt, delivery.status);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn delivery_stream<'a>(
        &'a self,
        webhook_id: &'a str,
        query: DeliveryQuery,
    ) -> impl Stream<Item = Result<Delivery, ApiError>> + 'a {
        let pages = stream::try_unfold(Some(query), move |next| async move {
            let Some(query) = next else {
                return Ok(None);
            };
            let page = self.deliveries(webhook_id, &query).await?;
            let read = page.items.len() as u64;
            let more = page.pagination.has_more && read > 0;
            let next = more.then(|| {
                let offset = query.offset + read;
                query.clone().offset(offset)
            });
            Ok(Some((stream::iter(page.items.into_iter().map(Ok)), next)))
        });
        futures_util::TryStreamExt::try_flatten(pages)
    }

    /// One delivery record in full, its body, signature and metadata
    /// included (`GET /api/webhooks/deliveries/:id`).
    ///
    /// # Errors
    ///
    /// [`ApiErrorKind::NotFound`] when there is no such delivery; see
    /// [`ApiError`].
    pub async fn delivery(&self, delivery_id: &str) -> Result<Delivery, ApiError> {
        let path = format!("/api/webhooks/deliveries/{}", segment(delivery_id));
        let what = format!("get delivery {delivery_id}");
        let body: DeliveryBody = self
            .call(Method::GET, &path, &[], None::<&()>, Repeat::Safe, &what)
            .await?;
        Ok(body.delivery)
    }

    /// Replays a delivery: the sender sends its original request again
    /// (same URL, timestamp and signature) as a new record (`POST
    /// /api/webhooks/deliveries/:id/replay`).
    ///
    /// # Errors
    ///
    /// [`ApiErrorKind::Rejected`] for a pending delivery; see [`ApiError`].
    pub async fn replay(&self, delivery_id: &str) -> Result<DeliveryAck, ApiError> {
        let path = format!("/api/webhooks/deliveries/{}/replay", segment(delivery_id));
        let what = format!("replay delivery {delivery_id}");
        self.call(
            Method::POST,
            &path,
            &[],
            None::<&()>,
            Repeat::OnlyUnsent,
            &what,
        )
        .await
    }

    /// The event types the API accepts (`GET /api/webhooks/events`).
    ///
    /// # Errors
    ///
    /// See [`ApiError`].
    pub async fn events(&self) -> Result<EventCatalog, ApiError> {
        self.call(
            Method::GET,
            "/api/webhooks/events",
            &[],
            None::<&()>,
            Repeat::Safe,
            "list the event types",
        )
        .await
    }

    /// The sender's queue (`GET /api/webhooks/queue/stats`).
    ///
    /// # Errors
    ///
    /// See [`ApiError`].
    pub async fn queue_stats(&self) -> Result<QueueStats, ApiError> {
        let body: QueueBody = self
            .call(
                Method::GET,
                "/api/webhooks/queue/stats",
                &[],
                None::<&()>,
                Repeat::Safe,
                "get the queue's stats",
            )
            .await?;
        Ok(body.queue)
    }

    /// One call, tried as often as `repeat` allows.
    async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
        repeat: Repeat,
        what: &str,
    ) -> Result<T, ApiError> {
        let mut attempt = 1;
        loop {
            match self.once(method.clone(), path, query, body, what).await {
                Ok(value) => return Ok(value),
                Err(failure) => {
                    let again = match repeat {
                        Repeat::Safe => failure.error.kind().is_transient(),
                        Repeat::OnlyUnsent => failure.unsent,
                    };
                    if !again || attempt >= self.attempts {
                        return Err(failure.error);
                    }
                    let delay = self.backoff.delay(attempt);
                    tracing::debug!(error = %failure.error, attempt, retry_in_ms = delay.as_millis() as u64, "API call failed; retrying");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn once<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
        what: &str,
    ) -> Result<T, Failure> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(reqwest::header::AUTHORIZATION, self.key.bearer())
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(self.timeout);
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|err| self.transport(err, what))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|err| self.transport(err, what))?;
        if !(200..300).contains(&status) {
            let mut error = ApiError::from_answer(status, &bytes, what);
            if status == 401 {
                error = ApiError::new(
                    ApiErrorKind::Unauthorized,
                    format!(
                        "{}; the API refused the key {} (check COSTKATANA_API_KEY)",
                        error.message(),
                        self.key.shown()
                    ),
                );
            }
            return Err(Failure {
                error,
                unsent: false,
            });
        }
        serde_json::from_slice(&bytes).map_err(|err| Failure {
            error: ApiError::new(
                ApiErrorKind::Decode,
                format!("{what}: the answer is not what the API sends: {err}"),
            )
            .caused_by(err),
            unsent: false,
        })
    }

    /// A transport failure, named without the key (reqwest's errors carry
    /// the URL, never headers).
    fn transport(&self, err: reqwest::Error, what: &str) -> Failure {
        let (kind, how) = if err.is_timeout() {
            (
                ApiErrorKind::Timeout,
                format!("no answer within {:?}", self.timeout),
            )
        } else if err.is_connect() {
            (
                ApiErrorKind::Connect,
                format!("cannot connect to {}", self.base),
            )
        } else {
            (
                ApiErrorKind::Connect,
                format!("the request to {} failed", self.base),
            )
        };
        Failure {
            unsent: err.is_connect(),
            error: ApiError::new(kind, format!("{what}: {how}: {}", source_text(&err)))
                .caused_by(err),
        }
    }
}

/// A failed try, and whether the request surely never reached the server.
struct Failure {
    error: ApiError,
    unsent: bool,
}

/// The innermost cause's text: reqwest's own message is generic.
fn source_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// An id as one path segment: anything but letters, digits, `-` and `_`
/// is percent-encoded, so an id can never change the route.
fn segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_stays_one_path_segment() {
        assert_eq!(
            segment("65f0c0ffee0000000000beef"),
            "65f0c0ffee0000000000beef"
        );
        assert_eq!(segment("../stats?x=1"), "%2E%2E%2Fstats%3Fx%3D1");
    }

    #[test]
    fn the_builder_refuses_no_key_and_a_bad_url() {
        let err = Client::builder().build().unwrap_err();
        assert_eq!(err.kind(), ApiErrorKind::Config);
        assert!(err.to_string().contains("COSTKATANA_API_KEY"), "{err}");
        let err = Client::builder()
            .api_key("dak_x")
            .base_url("ftp://example.com")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("not an http(s) URL"), "{err}");
    }
}
