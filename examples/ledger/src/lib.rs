//! A Cost Katana receiver whose handler has an effect that happens
//! **exactly once**, however often the event is delivered, retried or
//! interrupted: it records every handled event in a table of the inbox's
//! own database,
//!
//! ```sql
//! CREATE TABLE handled_events (event_id TEXT, event_type TEXT, handled_at BIGINT)
//! ```
//!
//! through an [`InboxTransaction`], so the row commits in the transaction
//! that marks the inbox entry done, or not at all. The table has no unique
//! constraint on `event_id`: the exactly-once comes from the transaction,
//! not from the schema.
//!
//! It takes the examples' fixed interface (see `example-common`) with
//! `INBOX_URL` required (`sqlite:<path>` or `postgres://…`), and
//! `HANDLER_DELAY_MS`: how long each handler waits before it writes (the
//! slow part of a real handler, outside any transaction), to widen the
//! window a crash can hit.
//!
//! ```no_run
//! use costkatana_webhooks::Receiver;
//! use costkatana_webhooks_inbox::Inbox;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let url = "sqlite:inbox.db";
//! let builder = Receiver::builder().secret("whsec_...").inbox(Inbox::open(url).await?);
//! example_ledger::create_table(url).await?;
//! let receiver = example_ledger::routes(builder, std::time::Duration::ZERO).build()?;
//! receiver.start().await?;
//! # Ok(()) }
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use costkatana_webhooks::{Delivery, HandlerResult, Payload, ReceiverBuilder, Shared};
use costkatana_webhooks_inbox::{InboxTransaction, InboxUrl};

/// The ledger's table, created at start when missing.
pub const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS handled_events \
     (event_id TEXT, event_type TEXT, handled_at BIGINT)";

/// One row per handled event.
pub const INSERT: &str =
    "INSERT INTO handled_events (event_id, event_type, handled_at) VALUES ($1, $2, $3)";

/// What the handler shares: how long it waits before writing.
#[derive(Debug, Clone, Copy)]
struct Ledger {
    delay: Duration,
}

/// `builder` with the ledger's one handler, which takes every delivery
/// (the fallback) and waits `delay` before it writes.
///
/// The receiver's build then requires inbox mode: the handler asks for an
/// [`InboxTransaction`].
pub fn routes(builder: ReceiverBuilder, delay: Duration) -> ReceiverBuilder {
    builder.share(Ledger { delay }).fallback(record)
}

/// Records the delivery: an event by its id and type, a body with no event
/// id (a template) by its dedupe key, with no type. The wait runs outside
/// any transaction; the row commits with the entry's done mark.
async fn record(
    payload: Payload,
    delivery: Delivery,
    tx: InboxTransaction,
    Shared(ledger): Shared<Ledger>,
) -> HandlerResult {
    let event_id = payload
        .event_id()
        .unwrap_or_else(|| delivery.dedupe_key())
        .to_owned();
    let event_type = match &payload {
        Payload::Event(event) => Some(event.event_type.to_string()),
        _ => None,
    };
    tracing::info!(%event_id, "recording");
    tokio::time::sleep(ledger.delay).await;
    tx.execute(
        INSERT,
        &[event_id.into(), event_type.into(), now_ms().into()],
    )
    .await?;
    Ok(())
}

/// Creates `handled_events` in the database of the inbox at `inbox_url`
/// when it is missing: in the SQLite file beside the inbox's tables (the
/// inbox must exist: open it first), or in the Postgres database.
///
/// # Errors
///
/// The URL is not an inbox URL, or the database cannot be reached or
/// refuses the table.
pub async fn create_table(inbox_url: &str) -> Result<(), String> {
    let url = InboxUrl::parse(inbox_url).map_err(|e| format!("INBOX_URL: {e}"))?;
    let failed = |e: &dyn std::fmt::Display| format!("cannot create handled_events in {url}: {e}");
    if let Some(path) = url.sqlite_path() {
        let path = path.to_owned();
        return tokio::task::spawn_blocking(move || {
            let flags =
                rusqlite::OpenFlags::default().difference(rusqlite::OpenFlags::SQLITE_OPEN_CREATE);
            let conn = rusqlite::Connection::open_with_flags(path, flags)?;
            conn.busy_timeout(Duration::from_secs(5))?;
            conn.execute_batch(CREATE_TABLE)
        })
        .await
        .map_err(|e| failed(&e))?
        .map_err(|e| failed(&e));
    }
    let mut config: tokio_postgres::Config = inbox_url.parse().map_err(|e| failed(&e))?;
    config.connect_timeout(Duration::from_secs(5));
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| failed(&e))?;
    tokio::spawn(connection);
    // Replicas starting together would race on the catalog: one at a time.
    client
        .batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock(8124061502); {CREATE_TABLE}; COMMIT"
        ))
        .await
        .map_err(|e| failed(&e))
}

/// `HANDLER_DELAY_MS`, whole milliseconds (default 0).
///
/// # Errors
///
/// A value that is not a whole number.
pub fn handler_delay_from_env() -> Result<Duration, String> {
    match std::env::var("HANDLER_DELAY_MS") {
        Err(_) => Ok(Duration::ZERO),
        Ok(ms) if ms.trim().is_empty() => Ok(Duration::ZERO),
        Ok(ms) => ms.trim().parse().map(Duration::from_millis).map_err(|_| {
            format!("HANDLER_DELAY_MS must be a whole number of milliseconds, not {ms:?}")
        }),
    }
}

fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}
