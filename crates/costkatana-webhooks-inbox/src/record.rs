//! A stored row, as the inspection API and the CLI show it.

use std::fmt;

use bytes::Bytes;
use costkatana_webhooks::inbox::EntryState;

/// Header values [`InboxRecord::redacted_headers`] hides: signatures and
/// credentials.
const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "x-webhook-signature",
    "x-costkatana-signature",
    "cookie",
];

/// One row of the inbox.
///
/// `Debug` shows the id, state, attempts, event id and type, and the
/// header names; never header values or the body.
///
/// ```
/// use costkatana_webhooks::inbox::EntryState;
/// use costkatana_webhooks_inbox::InboxRecord;
///
/// let record = InboxRecord {
///     id: 7,
///     state: EntryState::Dead,
///     attempts: 8,
///     dedupe_key: "16:ns:event:evt_1".into(),
///     event_id: Some("evt_1".into()),
///     event_type: Some("budget.exceeded".into()),
///     headers: vec![("authorization".into(), "Bearer t0ken".into())],
///     body: bytes::Bytes::from_static(b"{}"),
///     received_at_ms: 1_777_377_600_000,
///     run_after_ms: 1_777_377_600_000,
///     settled_at_ms: None,
///     last_error: Some("slack answered 500".into()),
/// };
/// assert_eq!(record.redacted_headers()[0].1, "[redacted]");
/// assert!(!format!("{record:?}").contains("t0ken"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct InboxRecord {
    /// The row's id.
    pub id: i64,
    /// Its state.
    pub state: EntryState,
    /// Attempts so far (the current one included while running).
    pub attempts: u32,
    /// The dedupe key.
    pub dedupe_key: String,
    /// The event id, when the body had one.
    pub event_id: Option<String>,
    /// The event type, when the body was an event.
    pub event_type: Option<String>,
    /// The stored headers (signature, timestamp, captured), raw.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Bytes,
    /// Arrival, in ms since the epoch.
    pub received_at_ms: i64,
    /// The earliest next attempt, in ms since the epoch.
    pub run_after_ms: i64,
    /// When it became done or dead, in ms since the epoch.
    pub settled_at_ms: Option<i64>,
    /// The last attempt's error.
    pub last_error: Option<String>,
}

impl InboxRecord {
    /// The headers with signature and credential values replaced by
    /// `[redacted]`, for showing.
    ///
    /// ```
    /// # use costkatana_webhooks::inbox::EntryState;
    /// # use costkatana_webhooks_inbox::InboxRecord;
    /// # let mut record = InboxRecord { id: 1, state: EntryState::Done, attempts: 1,
    /// #     dedupe_key: String::new(), event_id: None, event_type: None, headers: vec![],
    /// #     body: Default::default(), received_at_ms: 0, run_after_ms: 0, settled_at_ms: None,
    /// #     last_error: None };
    /// record.headers = vec![
    ///     ("x-webhook-signature".into(), "v1=abc".into()),
    ///     ("x-webhook-timestamp".into(), "1777377600000".into()),
    /// ];
    /// let shown = record.redacted_headers();
    /// assert_eq!(shown[0].1, "[redacted]");
    /// assert_eq!(shown[1].1, "1777377600000");
    /// ```
    pub fn redacted_headers(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .map(|(name, value)| {
                let secret = SECRET_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(name));
                let shown = if secret { "[redacted]" } else { value.as_str() };
                (name.clone(), shown.to_owned())
            })
            .collect()
    }
}

impl fmt::Debug for InboxRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("InboxRecord")
            .field("id", &self.id)
            .field("state", &self.state)
            .field("attempts", &self.attempts)
            .field("event_id", &self.event_id)
            .field("event_type", &self.event_type)
            .field("headers", &names)
            .field("body_len", &self.body.len())
            .field("received_at_ms", &self.received_at_ms)
            .field("last_error", &self.last_error)
            .finish_non_exhaustive()
    }
}
