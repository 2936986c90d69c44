//! The hook a user registers for entries that reach the dead letter.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// An inbox entry that reached the dead letter, as the
/// [`on_dead_letter`](crate::ReceiverBuilder::on_dead_letter) hook gets it.
///
/// ```
/// use costkatana_webhooks::receiver::DeadLetter;
/// fn page(dead: &DeadLetter) -> String {
///     format!("{} failed {} times: {}", dead.event_id.as_deref().unwrap_or("-"), dead.attempts, dead.error)
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeadLetter {
    /// The entry's id (`ckwebhook inbox show <id>`, `retry <id>`).
    pub entry_id: i64,
    /// The event's id, when the body had one.
    pub event_id: Option<String>,
    /// The event's type, when the body was an event.
    pub event_type: Option<String>,
    /// Attempts made.
    pub attempts: u32,
    /// Why it is dead: the last attempt's error, or the refusal.
    pub error: String,
}

pub(crate) type DeadLetterHook =
    Arc<dyn Fn(DeadLetter) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Runs `hook` for `dead` on its own task, catching a panic.
pub(crate) fn run(hook: &DeadLetterHook, dead: DeadLetter) {
    let future = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(dead)));
    let Ok(future) = future else {
        tracing::error!("the dead-letter hook panicked");
        return;
    };
    tokio::spawn(async move {
        let outcome = tokio::spawn(future).await;
        if outcome.is_err() {
            tracing::error!("the dead-letter hook panicked");
        }
    });
}
