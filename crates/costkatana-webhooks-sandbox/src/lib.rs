//! A local Cost Katana, for development and tests: the webhook management
//! API and the delivery engine of PROTOCOL.md §7, in memory, with no
//! account.
//!
//! Point your receiver's development setup, your API client or your
//! catch-up code at it instead of `https://cost-katana-backend.store`:
//! create webhooks over the same API, emit events of any of the 57 types,
//! and watch your receiver get them signed, retried, given up on,
//! deactivated and replayed exactly as the live service does it, with the
//! same answers, the same record shapes and the same mistakes (a refused
//! connection is never retried; `/stats` always reports zeros).
//!
//! # Run it
//!
//! From the command line, `ckwebhook sandbox` (it prints the URL and the
//! key to use). From code (tests, say):
//!
//! ```
//! use costkatana_webhooks::EventType;
//! use costkatana_webhooks_sandbox::{Emission, Sandbox};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
//! # let receiver_url = format!("http://127.0.0.1:{port}/webhooks/costkatana");
//! // Retry waits 1000 times shorter than the live 10, 20, 40 s.
//! let sandbox = Sandbox::builder().speed(1000.0).start().await?;
//! let (url, key) = (sandbox.url(), sandbox.api_key().expose());
//!
//! // The live API, on 127.0.0.1.
//! let client = reqwest::Client::new();
//! let created: serde_json::Value = serde_json::from_str(
//!     &client
//!         .post(format!("{url}/api/webhooks"))
//!         .bearer_auth(key)
//!         .header("content-type", "application/json")
//!         .body(serde_json::json!({"name": "Mine", "url": receiver_url, "events": ["budget.exceeded"]}).to_string())
//!         .send()
//!         .await?
//!         .text()
//!         .await?,
//! )?;
//! let webhook_id = created["webhook"]["id"].as_str().unwrap();
//! // The API masks the secret; the dashboard's full one, for your receiver:
//! let secret = sandbox.webhook_secret(webhook_id).unwrap();
//!
//! // Something happens; the engine delivers it.
//! let emitted = sandbox.emit(Emission::new(EventType::BudgetExceeded))?;
//! sandbox.settled().await;
//!
//! let record: serde_json::Value = serde_json::from_str(
//!     &client
//!         .get(format!("{url}/api/webhooks/deliveries/{}", emitted.delivery_ids[0]))
//!         .bearer_auth(key)
//!         .send()
//!         .await?
//!         .text()
//!         .await?,
//! )?;
//! // Nothing listened there: failed at once, never retried.
//! assert_eq!(record["delivery"]["error"]["code"], "ECONNREFUSED");
//! sandbox.shutdown().await;
//! # let _ = secret;
//! # Ok(()) }
//! ```
//!
//! # What it serves
//!
//! Every route wants `Authorization: Bearer <key>` and answers in the live
//! envelope (`{"success": true, …}`, POST routes 201; `{"success": false,
//! "message": …}`; `400 Validation failed` with `errors: [{field, message,
//! code}]` as zod reports them).
//!
//! | route | |
//! |---|---|
//! | `GET /api/webhooks/events` | the 57 types: `{key, value, category, name}`, `categories`, `total` |
//! | `GET /api/webhooks/queue/stats` | records `waiting`, `active` (in their attempt), `completed`, `failed` |
//! | `GET /api/webhooks` | newest first; `?active=`, `?events=` (`limit`/`offset` read and ignored) |
//! | `POST /api/webhooks` | create; a `secret` given is ignored, 64 hex characters made, shown as `****` + last 4 |
//! | `GET`/`PUT`/`DELETE /api/webhooks/:id` | read (with the moving `stats` counters), update any subset, delete with its records |
//! | `POST /api/webhooks/:id/test` | a `system.error` titled "Webhook Test"; 400 when inactive |
//! | `GET /api/webhooks/:id/stats` | the live shape, always zeros (as live: see below) |
//! | `GET /api/webhooks/:id/deliveries` | newest first; `status`, `eventType`, `limit` (20, ≤ 100), `offset` |
//! | `GET /api/webhooks/deliveries/:id` | one record, with `request.body`, `signature`, `metadata` |
//! | `POST /api/webhooks/deliveries/:id/replay` | a new record re-sending the original request; 400 when pending |
//! | `GET /sandbox/webhooks/:id/secret` | **sandbox only**: the full secret (the live dashboard shows it) |
//! | `POST /sandbox/events` | **sandbox only**: emit `{eventType, data?, userId?, projectId?}` (the live service's own events) |
//!
//! # The delivery engine
//!
//! As the live delivery service: each attempt is its own record. A request
//! is signed once (`current` scheme: `X-Webhook-Timestamp` in ms,
//! `X-Webhook-Signature` bare hex, with the sender's other headers, the
//! webhook's custom headers and auth) over the compact camelCase body. A
//! 2xx is delivered. A 5xx or a time-out with retries left marks the record
//! `failed` (`retry_scheduled`) and makes a new `pending` one, attempt + 1,
//! with the **same stored request** (body, timestamp, signature), sent after
//! `initialDelay × multiplier^(attempt−1) × 0.85–1.15` (at most 1 h);
//! `maxRetries: 0` means 3. A refused connection or an unknown host fails
//! at once (`network_error`), any other answer too (`http_error`), a last
//! time-out is `timeout`. After each final failure, more than 50 failed
//! records of a webhook in 24 h deactivate it: new events then make no
//! record at all, queued ones fail `webhook_inactive`, until `PUT
//! {"active": true}`. A replay re-sends the original record's request to
//! its original URL. Records are kept 30 days.
//!
//! # How it differs from the live service
//!
//! - **In memory**: everything is gone when it stops. At most
//!   [`DEFAULT_MAX_DELIVERIES`] records are held (see
//!   [`SandboxBuilder::max_deliveries`]); past it the oldest go first.
//! - **`speed`** ([`SandboxBuilder::speed`]) divides every retry wait, and
//!   the waits the records report; nothing else (time-outs, windows,
//!   counts) changes.
//! - **A clock** ([`SandboxBuilder::clock`]): dates, signature timestamps,
//!   the 24 h failure window and the 30 days are read from it, so tests can
//!   move a day ahead without waiting.
//! - **The `/sandbox` routes** and [`RunningSandbox::emit`] /
//!   [`RunningSandbox::webhook_secret`] stand for the dashboard and for the
//!   live service's own events. One user, one key: events carry the user
//!   id of a `dak_<user id>_…` key, and reach every active webhook
//!   subscribed to their type.
//! - **Stored, not applied**: `filters` and `payloadTemplate` are checked
//!   and kept, but every delivery has the default body (the live service
//!   filters events and renders Handlebars templates).
//! - **As the live service, knowingly**: `GET /:id/stats` reports zeros
//!   (its aggregation matches nothing); the webhook's own counters on `GET
//!   /:id` move instead, once per delivery that ends (a success or a final
//!   failure; attempts retried do not count, as there). Retry and replay
//!   records have no `signature` field. At most 5 attempts run at once.
//!
//! # Also here
//!
//! - [`sender`]: one delivery as the live sender makes it (signed once,
//!   any of the three schemes, retried unchanged on 5xx and time-outs), the
//!   building block of the engine and of `ckwebhook send`.
//! - [`bulk`]: many distinct events at once, each possibly twice side by
//!   side, with a summary: a load and dedupe test for a receiver.

pub mod bulk;
pub mod sender;

mod api;
mod engine;
mod js;
mod model;
mod random;
mod server;
mod shared;
mod store;
mod validate;

pub use server::{
    ApiKey, ApiKeyError, Emission, EmitError, Emitted, RunningSandbox, Sandbox, SandboxBuilder,
    StartError, DEFAULT_MAX_DELIVERIES,
};
